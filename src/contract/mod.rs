//! The OpenAPI contract: loading, operation lookup, and response and request
//! validation against its schemas.
//!
//! [`load`] reads Swagger 2.0, OpenAPI 3.0.x or 3.1.x, YAML or JSON, and
//! reports every problem it finds ([`ContractErrors`]). References resolve
//! inside the document only; nothing is ever fetched. A [`Contract`] is
//! `Send + Sync` and shared by all scenario threads through an `Arc`.
//!
//! Pipeline at load: parse (JSON straight into one document, whose keys keep
//! their order; YAML through `tree`, which keeps lines) → `check`
//! (references) → `operations` (templates, responses, bodies; `paths`
//! index). Then, per schema on its first use, in `validate`: the schemas it
//! reaches are copied → `convert` (3.0/2.0 schemas as JSON Schema 2020-12)
//! → `direction` (request, response or strict: `readOnly`/`writeOnly`,
//! `discriminator`, `strict`) → a registry and a cached validator.
//!
//! Decisions the OpenAPI specification leaves open:
//! - all dialects are validated as JSON Schema 2020-12 (see `convert`);
//! - lookup filters by method first, then prefers the template with more
//!   literal characters, so `DELETE /users/me` finds `DELETE /users/{id}`
//!   when `/users/me` has no `DELETE`;
//! - Swagger 2.0 `basePath` is part of every template; OpenAPI 3.x `servers`
//!   are not (the base URL carries them);
//! - a received `Content-Type` that is empty matches no media type.

mod check;
mod checks;
mod clauses;
mod convert;
mod direction;
mod discriminator;
mod error;
mod load;
mod media;
mod operations;
mod params;
mod paths;
mod refs;
mod strict;
pub(crate) mod tree;
mod validate;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use checks::{ContractCheck, ContractChecks, UnknownContractCheck};
pub use clauses::ClauseMark;
pub use error::{ContractError, ContractErrors};
pub use load::{from_value, hex, load, parse};
pub use params::{ParamIn, Parameter, Style, path_spans};
pub use validate::prepare_validation;

use direction::Variant;

/// The specification a contract is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `swagger: "2.0"`; schemas are Draft 4 with `x-nullable`.
    Swagger2,
    /// `openapi: 3.0.x`; schemas are Draft 4 with `nullable` and friends.
    OpenApi30,
    /// `openapi: 3.1.x`; schemas are JSON Schema 2020-12.
    OpenApi31,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Swagger2 => "Swagger 2.0",
            Dialect::OpenApi30 => "OpenAPI 3.0",
            Dialect::OpenApi31 => "OpenAPI 3.1",
        }
    }
}

/// A loaded, checked contract.
#[derive(Debug)]
pub struct Contract {
    file: String,
    dialect: Dialect,
    version: String,
    operations: Vec<Operation>,
    index: paths::PathIndex,
    by_id: HashMap<String, usize>,
    schemas: validate::Schemas,
    /// The `x-clause` marks of the document.
    marks: clauses::Marks,
    /// SHA-256 of the contract's text (hex), for provenance.
    sha256: String,
    /// Some operation takes JSON request bodies only in a media type other
    /// than `application/json` (`application/merge-patch+json`).
    other_json_requests: bool,
}

/// One operation (method + path template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `operationId`, or `"METHOD /template"` when absent.
    pub id: std::sync::Arc<str>,
    /// Uppercase.
    pub method: String,
    /// As documented (Swagger 2.0: with `basePath`), e.g. `/api/v1/jobs/{id}:cancel`.
    pub template: String,
    /// JSON pointer of the operation in the document.
    pub pointer: String,
    /// In document order.
    pub responses: Vec<ResponseSpec>,
    pub request_body: Option<BodySpec>,
    /// Path, query, header and cookie parameters (the path item's included).
    pub parameters: Vec<Parameter>,
    /// The operation's `x-clause`: what its undocumented statuses break.
    pub clause: Option<std::sync::Arc<str>>,
    /// The template's capturing regex, compiled at its first use.
    pub(crate) captures: params::Captures,
}

/// One documented response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSpec {
    /// `"200"`, `"2XX"` or `"default"`.
    pub key: std::sync::Arc<str>,
    /// Documented media types; empty when the response has no content.
    pub media_types: Vec<String>,
    /// Per media type, the JSON pointer of its schema (`None`: no schema).
    schemas: Vec<Option<String>>,
    /// JSON pointer of the response object (a `$ref` resolved).
    pub pointer: String,
    /// The response's `x-clause`, else its operation's: what a wrong media
    /// type, and a schema violation under no nearer mark, break.
    pub clause: Option<std::sync::Arc<str>>,
}

/// A documented request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySpec {
    pub required: bool,
    pub media_types: Vec<String>,
    schemas: Vec<Option<String>>,
}

/// One way a body breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the body (`""`: the body itself).
    pub instance_path: String,
    /// JSON pointer of the failing keyword in the contract document.
    pub schema_path: String,
    /// One line, e.g. `"RUNNING" is not one of "UNKNOWN" or "DONE"`.
    pub message: String,
    /// The offending value as compact JSON, cut to 200 characters.
    pub value: String,
    /// `true` for a property the contract does not document (strict mode only).
    pub undocumented: bool,
    /// The clause the failing keyword rests on (its nearest `x-clause`,
    /// else the response's); filled for responses only.
    pub clause: Option<std::sync::Arc<str>>,
    /// Violations found after this one and counted, not kept: at most
    /// [`MAX_KEPT_VIOLATIONS`] are kept per body, so memory stays bounded
    /// whatever a body holds (set on the last one kept).
    pub omitted: usize,
}

/// Violations kept per validated body; the rest are only counted.
pub const MAX_KEPT_VIOLATIONS: usize = 100;

impl Operation {
    /// The response documented for `status`: exact code, then its range
    /// (`2XX`, any case), then `default`.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        media::response_for(&self.responses, status)
    }
}

/// The documented media type (of `types`) that `content_type` falls under.
fn media_type_for<'a>(types: &'a [String], content_type: &str) -> Option<&'a str> {
    media::match_media(types, content_type)
        .and_then(|i| types.get(i))
        .map(String::as_str)
}

/// The schema documented for the media type `content_type` falls under.
fn schema_for<'a>(
    types: &[String],
    schemas: &'a [Option<String>],
    content_type: &str,
) -> Option<&'a str> {
    let i = media::match_media(types, content_type)?;
    schemas.get(i)?.as_deref()
}

impl ResponseSpec {
    /// The documented media type `content_type` falls under (see
    /// [`Contract::media_type_for`]).
    pub fn media_type_for(&self, content_type: &str) -> Option<&str> {
        media_type_for(&self.media_types, content_type)
    }

    /// The pointer of the schema documented for the media type
    /// `content_type` falls under, if any.
    pub fn schema_for(&self, content_type: &str) -> Option<&str> {
        schema_for(&self.media_types, &self.schemas, content_type)
    }
}

impl BodySpec {
    /// The documented media type `content_type` falls under.
    pub fn media_type_for(&self, content_type: &str) -> Option<&str> {
        media_type_for(&self.media_types, content_type)
    }

    fn schema_for(&self, content_type: &str) -> Option<&str> {
        schema_for(&self.media_types, &self.schemas, content_type)
    }
}

impl Contract {
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The `openapi`/`swagger` version as written, e.g. `3.0.3`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// SHA-256 of the contract's text, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Whether a JSON request body may need a media type other than
    /// `application/json` (see [`crate::http::target::body_media_type`]);
    /// when not, no lookup is needed to send one.
    pub fn other_json_requests(&self) -> bool {
        self.other_json_requests
    }

    /// The file the contract was read from, as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// In document order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation for `method` (any case) and a concrete `path` (no
    /// base-URL prefix; a query string is ignored).
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        self.index
            .find(method, path, || params::spanning(&self.operations))
            .and_then(|i| self.operations.get(i))
    }

    pub fn by_id(&self, operation_id: &str) -> Option<&Operation> {
        self.by_id
            .get(operation_id)
            .and_then(|&i| self.operations.get(i))
    }

    /// Whether `content_type` (as received, e.g. `application/json;
    /// charset=utf-8`) is one the response documents, and which: parameters
    /// are ignored, `type/*` and `*/*` ranges honoured after an exact match,
    /// and a `+json` suffix is not plain JSON unless documented.
    pub fn media_type_for<'a>(
        &self,
        resp: &'a ResponseSpec,
        content_type: &str,
    ) -> Option<&'a str> {
        resp.media_type_for(content_type)
    }

    /// The body of a `status` response with this content type against its
    /// schema; strict mode also flags undocumented properties. Empty when
    /// valid, or when the status, media type or schema is undocumented
    /// (other checks report those).
    pub fn validate_response(
        &self,
        op: &Operation,
        status: u16,
        content_type: &str,
        body: &serde_json::Value,
        strict: bool,
    ) -> Vec<SchemaViolation> {
        let Some(response) = op.response_for(status) else {
            return Vec::new();
        };
        let Some(pointer) = response.schema_for(content_type) else {
            return Vec::new();
        };
        let variant = if strict {
            Variant::Strict
        } else {
            Variant::Response
        };
        let mut violations = self.schemas.validate(variant, pointer, body);
        for v in &mut violations {
            v.clause = self
                .marks
                .nearest(&v.schema_path)
                .or(response.clause.as_ref())
                .cloned();
        }
        violations
    }

    /// Every `x-clause` of the document, in document order.
    pub fn clause_marks(&self) -> &[ClauseMark] {
        &self.marks.marks
    }

    /// A request body against the operation's request schema (`conform lint`).
    pub fn validate_request(
        &self,
        op: &Operation,
        content_type: &str,
        body: &serde_json::Value,
    ) -> Vec<SchemaViolation> {
        let Some(pointer) = op
            .request_body
            .as_ref()
            .and_then(|b| b.schema_for(content_type))
        else {
            return Vec::new();
        };
        self.schemas.validate(Variant::Request, pointer, body)
    }

    /// Compiles every request and response validator now (strict ones
    /// excepted), so a schema that cannot compile fails fast instead of at
    /// its first use. Validators are otherwise compiled lazily.
    pub fn precompile(&self) -> Result<(), ContractErrors> {
        let mut errors = Vec::new();
        for op in &self.operations {
            let responses = op
                .responses
                .iter()
                .flat_map(|r| r.schemas.iter().map(|s| (Variant::Response, s)));
            let requests = op
                .request_body
                .iter()
                .flat_map(|b| b.schemas.iter().map(|s| (Variant::Request, s)));
            for (variant, pointer) in responses.chain(requests) {
                let Some(pointer) = pointer else { continue };
                if let Err(message) = &*self.schemas.validator(variant, pointer) {
                    errors.push(ContractError {
                        file: self.file.clone(),
                        pointer: pointer.clone(),
                        line: 0,
                        column: 0,
                        message: format!("the schema does not compile: {message}"),
                    });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            errors.dedup();
            Err(ContractErrors::new(errors))
        }
    }

    /// How many validators have been compiled (each is compiled once per
    /// document variant and schema, then reused).
    pub fn compiled_validators(&self) -> usize {
        self.schemas.compiled()
    }
}
