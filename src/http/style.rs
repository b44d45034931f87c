//! Parameter values written as their OpenAPI `style` asks: pure functions
//! from a parameter and a JSON value to percent-encoded text.
//!
//! The OpenAPI style-examples table, for `color` = `"blue"`,
//! `["blue", "black", "brown"]` and `{"R": 100, "G": 200, "B": 150}`:
//!
//! | style | explode | string | array | object |
//! |---|---|---|---|---|
//! | simple | false | `blue` | `blue,black,brown` | `R,100,G,200,B,150` |
//! | simple | true | `blue` | `blue,black,brown` | `R=100,G=200,B=150` |
//! | label | false | `.blue` | `.blue,black,brown` | `.R,100,G,200,B,150` |
//! | label | true | `.blue` | `.blue.black.brown` | `.R=100.G=200.B=150` |
//! | matrix | false | `;color=blue` | `;color=blue,black,brown` | `;color=R,100,G,200,B,150` |
//! | matrix | true | `;color=blue` | `;color=blue;color=black;color=brown` | `;R=100;G=200;B=150` |
//! | form | false | `color=blue` | `color=blue,black,brown` | `color=R,100,G,200,B,150` |
//! | form | true | `color=blue` | `color=blue&color=black&color=brown` | `R=100&G=200&B=150` |
//! | spaceDelimited | false | | `color=blue%20black%20brown` | refused |
//! | pipeDelimited | false | | `color=blue%7Cblack%7Cbrown` | refused |
//! | deepObject | true | refused | refused | `color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150` |
//!
//! Decisions the table leaves open:
//! - label without explode joins with `,` (RFC 6570, OpenAPI 3.0.4 and 3.1;
//!   3.0.3's table shows `.blue.black.brown`);
//! - delimiters outside the URL's unreserved characters are sent
//!   percent-encoded (`%7C`, `%5B`, `%5D`), as OpenAPI 3.0.4 writes them;
//!   `,`, `.`, `;` and `=` are sent as they are;
//! - an object for `spaceDelimited`/`pipeDelimited` is refused (3.0.3 lists
//!   arrays only); a lone scalar is a one-item list; with `explode: true`
//!   they repeat the key, as `form` does;
//! - an empty array or object is `color=` in the query, `.` (label) and
//!   `;color` (matrix) in the path; an empty deepObject sends nothing;
//! - members that are arrays or objects are refused in every style (one
//!   level only; deepObject included);
//! - object members go out in the order they are written;
//! - scalars are text: strings as they are, numbers, booleans and null as JSON.
//!
//! Encoding: query names and values as `application/x-www-form-urlencoded`
//! (space as `+`; what conform always sent), or with `allowReserved` keeping
//! RFC 3986 reserved characters except `#`, `&` and `=` (which would change
//! the query's structure). Path values as before (`/`, `?`, `#`, `%`, space
//! and a few more encoded); members of arrays and objects and label and
//! matrix values also encode `,`, `;` and `=`. A path parameter that may span
//! segments (`x-multi-segment`, `allowReserved`) keeps `/`, but a `.` or `..`
//! segment in it is refused: the URL would be normalised to another path.
//! Header values are not encoded.

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::contract::{Parameter, Style};

/// Characters encoded when a value is substituted into a URL path.
pub(crate) const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// A member of an array or object, or a label or matrix value, in a path.
const PATH_MEMBER: &AsciiSet = &PATH_VALUE.add(b',').add(b';').add(b'=');
/// A path value that may span segments.
const PATH_SPANNING: &AsciiSet = &PATH_VALUE.remove(b'/');
const PATH_MEMBER_SPANNING: &AsciiSet = &PATH_MEMBER.remove(b'/');

/// `application/x-www-form-urlencoded`: all but alphanumerics and `*-._`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// `allowReserved` in the query: unreserved and reserved characters stay,
/// except `#`, `&` and `=`.
const QUERY_RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';');

/// A value a parameter's style cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location} parameter `{name}` {problem}")]
pub struct StyleError {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: &'static str,
    pub problem: Problem,
}

/// What is wrong with the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is {found}, which style {style} cannot serialise: it takes {takes}")]
    Shape {
        found: &'static str,
        style: &'static str,
        takes: &'static str,
    },
    #[error("holds {found} at `{at}`, which style {style} cannot serialise: it takes {takes}")]
    Nested {
        found: &'static str,
        at: String,
        style: &'static str,
        takes: &'static str,
    },
    #[error("is {found}, but the contract's schema for it is of type `{schema_type}`")]
    Type {
        found: &'static str,
        schema_type: String,
    },
    #[error(
        "holds a `{segment}` segment, which would send the request to another path (its `/` is not encoded)"
    )]
    DotSegment { segment: String },
}

/// A scalar as text: strings as they are, other values as JSON.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        _ => "a scalar",
    }
}

/// A value flattened to text, one level deep.
enum Shape {
    Scalar(String),
    List(Vec<String>),
    Pairs(Vec<(String, String)>),
}

impl Shape {
    fn kind(&self) -> &'static str {
        match self {
            Shape::Scalar(_) => "a scalar",
            Shape::List(_) => "an array",
            Shape::Pairs(_) => "an object",
        }
    }

    /// An object's members as one list: `R, 100, G, 200`.
    fn flat(pairs: &[(String, String)]) -> impl Iterator<Item = &String> {
        pairs.iter().flat_map(|(k, v)| [k, v])
    }
}

/// What the style takes, for messages.
fn takes(style: Style) -> &'static str {
    match style {
        Style::SpaceDelimited | Style::PipeDelimited | Style::TabDelimited => {
            "an array of scalars (or a single scalar)"
        }
        Style::DeepObject => "an object whose members are scalars",
        Style::Simple | Style::Label | Style::Matrix | Style::Form => {
            "a scalar, an array of scalars or an object whose members are scalars"
        }
    }
}

fn error(p: &Parameter, problem: Problem) -> StyleError {
    StyleError {
        name: p.name.clone(),
        location: p.location.as_str(),
        problem,
    }
}

fn shape_error(p: &Parameter, found: &'static str) -> StyleError {
    error(
        p,
        Problem::Shape {
            found,
            style: p.style.as_str(),
            takes: takes(p.style),
        },
    )
}

fn shape(p: &Parameter, v: &Value) -> Result<Shape, StyleError> {
    let member = |at: String, item: &Value| match item {
        Value::Array(_) | Value::Object(_) => Err(error(
            p,
            Problem::Nested {
                found: kind(item),
                at,
                style: p.style.as_str(),
                takes: takes(p.style),
            },
        )),
        scalar => Ok(text(scalar)),
    };
    Ok(match v {
        Value::Array(items) => Shape::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| member(i.to_string(), item))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Shape::Pairs(
            map.iter()
                .map(|(k, item)| Ok((k.clone(), member(k.clone(), item)?)))
                .collect::<Result<_, StyleError>>()?,
        ),
        scalar => Shape::Scalar(text(scalar)),
    })
}

fn encode(s: &str, set: &'static AsciiSet) -> String {
    utf8_percent_encode(s, set).to_string()
}

/// `application/x-www-form-urlencoded` bytes of `s`.
fn form(s: &str) -> String {
    utf8_percent_encode(s, FORM)
        .map(|chunk| if chunk == "%20" { "+" } else { chunk })
        .collect()
}

/// One query parameter: `name=value` pairs joined by `&`, percent-encoded
/// (empty for an empty deepObject).
pub fn query(p: &Parameter, v: &Value) -> Result<String, StyleError> {
    let name = form(&p.name);
    let value = |s: &str| {
        if p.allow_reserved {
            encode(s, QUERY_RESERVED)
        } else {
            form(s)
        }
    };
    if p.content {
        return Ok(format!("{name}={}", value(&text(v))));
    }
    let shape = shape(p, v)?;
    let delimiter = match p.style {
        Style::SpaceDelimited => Some("%20"),
        Style::PipeDelimited => Some("%7C"),
        Style::TabDelimited => Some("%09"),
        _ => None,
    };
    let join = |items: &mut dyn Iterator<Item = &String>, by: &str| {
        let items: Vec<String> = items.map(|i| value(i)).collect();
        format!("{name}={}", items.join(by))
    };
    let repeat = |items: &[String]| {
        if items.is_empty() {
            return format!("{name}=");
        }
        let pairs: Vec<String> = items
            .iter()
            .map(|i| format!("{name}={}", value(i)))
            .collect();
        pairs.join("&")
    };
    Ok(match (p.style, shape) {
        (Style::DeepObject, Shape::Pairs(pairs)) => {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{name}%5B{}%5D={}", form(k), value(v)))
                .collect();
            pairs.join("&")
        }
        (Style::DeepObject, other) => return Err(shape_error(p, other.kind())),
        (_, Shape::Pairs(_)) if delimiter.is_some() => {
            return Err(shape_error(p, "an object"));
        }
        (_, Shape::Scalar(s)) => format!("{name}={}", value(&s)),
        (_, Shape::List(items)) if p.explode => repeat(&items),
        (_, Shape::List(items)) => join(&mut items.iter(), delimiter.unwrap_or(",")),
        (_, Shape::Pairs(pairs)) if p.explode => {
            if pairs.is_empty() {
                return Ok(format!("{name}="));
            }
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", form(k), value(v)))
                .collect();
            pairs.join("&")
        }
        (_, Shape::Pairs(pairs)) => join(&mut Shape::flat(&pairs), ","),
    })
}

/// A whole path parameter's value: `blue`, `.blue`, `;color=blue`...
pub fn path(p: &Parameter, v: &Value) -> Result<String, StyleError> {
    let spans = p.spans_segments();
    let (scalar_set, member_set) = if spans {
        (PATH_SPANNING, PATH_MEMBER_SPANNING)
    } else {
        (PATH_VALUE, PATH_MEMBER)
    };
    let member = |s: &String| encode(s, member_set);
    let joined = |items: &mut dyn Iterator<Item = &String>, by: &str| {
        items.map(member).collect::<Vec<_>>().join(by)
    };
    let name = encode(&p.name, PATH_MEMBER);
    let out = if p.content {
        encode(&text(v), scalar_set)
    } else {
        match (p.style, shape(p, v)?) {
            (Style::Label, Shape::Scalar(s)) => format!(".{}", member(&s)),
            (Style::Label, Shape::List(items)) if p.explode && !items.is_empty() => {
                items.iter().map(|i| format!(".{}", member(i))).collect()
            }
            (Style::Label, Shape::List(items)) => format!(".{}", joined(&mut items.iter(), ",")),
            (Style::Label, Shape::Pairs(pairs)) if p.explode && !pairs.is_empty() => pairs
                .iter()
                .map(|(k, v)| format!(".{}={}", member(k), member(v)))
                .collect(),
            (Style::Label, Shape::Pairs(pairs)) => {
                format!(".{}", joined(&mut Shape::flat(&pairs), ","))
            }
            (Style::Matrix, Shape::Scalar(s)) if s.is_empty() => format!(";{name}"),
            (Style::Matrix, Shape::Scalar(s)) => format!(";{name}={}", member(&s)),
            (Style::Matrix, Shape::List(items)) if items.is_empty() => format!(";{name}"),
            (Style::Matrix, Shape::List(items)) if p.explode => items
                .iter()
                .map(|i| format!(";{name}={}", member(i)))
                .collect(),
            (Style::Matrix, Shape::List(items)) => {
                format!(";{name}={}", joined(&mut items.iter(), ","))
            }
            (Style::Matrix, Shape::Pairs(pairs)) if pairs.is_empty() => format!(";{name}"),
            (Style::Matrix, Shape::Pairs(pairs)) if p.explode => pairs
                .iter()
                .map(|(k, v)| format!(";{}={}", member(k), member(v)))
                .collect(),
            (Style::Matrix, Shape::Pairs(pairs)) => {
                format!(";{name}={}", joined(&mut Shape::flat(&pairs), ","))
            }
            (_, Shape::Scalar(s)) => encode(&s, scalar_set),
            (_, Shape::List(items)) => joined(&mut items.iter(), ","),
            (_, Shape::Pairs(pairs)) if p.explode => pairs
                .iter()
                .map(|(k, v)| format!("{}={}", member(k), member(v)))
                .collect::<Vec<_>>()
                .join(","),
            (_, Shape::Pairs(pairs)) => joined(&mut Shape::flat(&pairs), ","),
        }
    };
    if spans {
        dot_segments(p, &out, true)?;
    }
    Ok(out)
}

/// A value that is part of a path parameter (the template around it holds
/// literal text too): its text, encoded as the parameter's values are.
pub fn path_piece(p: &Parameter, v: &Value) -> Result<String, StyleError> {
    let s = text(v);
    if !p.spans_segments() {
        return Ok(encode(&s, PATH_VALUE));
    }
    dot_segments(p, &s, false)?;
    Ok(encode(&s, PATH_SPANNING))
}

/// Refuses a `.` or `..` segment in a value whose `/` is sent as is;
/// `whole`: the value fills its segments, else (a piece beside literal text)
/// only one that holds a `/` is checked.
fn dot_segments(p: &Parameter, s: &str, whole: bool) -> Result<(), StyleError> {
    if !whole && !s.contains('/') {
        return Ok(());
    }
    match s.split('/').find(|seg| matches!(*seg, "." | "..")) {
        Some(seg) => Err(error(
            p,
            Problem::DotSegment {
                segment: seg.to_owned(),
            },
        )),
        None => Ok(()),
    }
}

/// A header parameter's value (`simple`; not percent-encoded).
pub fn header(p: &Parameter, v: &Value) -> Result<String, StyleError> {
    if p.content {
        return Ok(text(v));
    }
    Ok(match shape(p, v)? {
        Shape::Scalar(s) => s,
        Shape::List(items) => items.join(","),
        Shape::Pairs(pairs) if p.explode => pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        Shape::Pairs(pairs) => Shape::flat(&pairs)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(","),
    })
}

/// Refuses an array or object where the parameter's schema names a scalar
/// type (or an object for an `array`, an array for an `object`): what lint
/// can tell before sending.
pub fn schema_type(p: &Parameter, v: &Value) -> Result<(), StyleError> {
    let Some(t) = p.schema_type.as_deref().filter(|_| !p.content) else {
        return Ok(());
    };
    let wrong = match v {
        Value::Array(_) => t != "array",
        Value::Object(_) => t != "object",
        _ => false,
    };
    if wrong
        && matches!(
            t,
            "string" | "integer" | "number" | "boolean" | "array" | "object"
        )
    {
        return Err(error(
            p,
            Problem::Type {
                found: kind(v),
                schema_type: t.to_owned(),
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::contract::ParamIn;

    fn param(location: ParamIn, style: Style, explode: bool) -> Parameter {
        Parameter {
            style,
            explode,
            ..Parameter::undocumented("color", location)
        }
    }

    fn values() -> [Value; 3] {
        [
            json!("blue"),
            json!(["blue", "black", "brown"]),
            // Members go out as written: R, G, B.
            json!({"R": 100, "G": 200, "B": 150}),
        ]
    }

    /// The style's output for the string, the array and the object.
    fn row(f: fn(&Parameter, &Value) -> Result<String, StyleError>, p: &Parameter) -> [String; 3] {
        values().map(|v| match f(p, &v) {
            Ok(s) => s,
            Err(e) => format!("refused: {}", e.problem),
        })
    }

    #[test]
    fn path_styles_follow_the_table() {
        use ParamIn::Path;
        let table = [
            (
                Style::Simple,
                false,
                ["blue", "blue,black,brown", "R,100,G,200,B,150"],
            ),
            (
                Style::Simple,
                true,
                ["blue", "blue,black,brown", "R=100,G=200,B=150"],
            ),
            (
                Style::Label,
                false,
                [".blue", ".blue,black,brown", ".R,100,G,200,B,150"],
            ),
            (
                Style::Label,
                true,
                [".blue", ".blue.black.brown", ".R=100.G=200.B=150"],
            ),
            (
                Style::Matrix,
                false,
                [
                    ";color=blue",
                    ";color=blue,black,brown",
                    ";color=R,100,G,200,B,150",
                ],
            ),
            (
                Style::Matrix,
                true,
                [
                    ";color=blue",
                    ";color=blue;color=black;color=brown",
                    ";R=100;G=200;B=150",
                ],
            ),
        ];
        for (style, explode, expected) in table {
            let p = param(Path, style, explode);
            assert_eq!(row(path, &p), expected, "{style:?} explode={explode}");
        }
    }

    #[test]
    fn query_styles_follow_the_table() {
        use ParamIn::Query;
        let table = [
            (
                Style::Form,
                false,
                [
                    "color=blue",
                    "color=blue,black,brown",
                    "color=R,100,G,200,B,150",
                ],
            ),
            (
                Style::Form,
                true,
                [
                    "color=blue",
                    "color=blue&color=black&color=brown",
                    "R=100&G=200&B=150",
                ],
            ),
            (
                Style::SpaceDelimited,
                false,
                [
                    "color=blue",
                    "color=blue%20black%20brown",
                    "refused: is an object, which style spaceDelimited cannot serialise: it takes an array of scalars (or a single scalar)",
                ],
            ),
            (
                Style::PipeDelimited,
                false,
                [
                    "color=blue",
                    "color=blue%7Cblack%7Cbrown",
                    "refused: is an object, which style pipeDelimited cannot serialise: it takes an array of scalars (or a single scalar)",
                ],
            ),
            (
                Style::DeepObject,
                true,
                [
                    "refused: is a scalar, which style deepObject cannot serialise: it takes an object whose members are scalars",
                    "refused: is an array, which style deepObject cannot serialise: it takes an object whose members are scalars",
                    "color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150",
                ],
            ),
        ];
        for (style, explode, expected) in table {
            let p = param(Query, style, explode);
            assert_eq!(row(query, &p), expected, "{style:?} explode={explode}");
        }
        // Swagger 2.0 `tsv`, and `explode` on a delimited style repeating the key.
        let tsv = param(Query, Style::TabDelimited, false);
        assert_eq!(
            query(&tsv, &values()[1]).unwrap(),
            "color=blue%09black%09brown"
        );
        let exploded = param(Query, Style::PipeDelimited, true);
        assert_eq!(
            query(&exploded, &json!(["a", "b"])).unwrap(),
            "color=a&color=b"
        );
    }

    #[test]
    fn header_values_are_simple_and_unencoded() {
        let p = param(ParamIn::Header, Style::Simple, false);
        assert_eq!(
            row(header, &p),
            ["blue", "blue,black,brown", "R,100,G,200,B,150"]
        );
        let p = param(ParamIn::Header, Style::Simple, true);
        assert_eq!(header(&p, &values()[2]).unwrap(), "R=100,G=200,B=150");
        assert_eq!(header(&p, &json!("a b/c")).unwrap(), "a b/c");
    }

    #[test]
    fn empty_values_follow_the_table() {
        let empty = [json!([]), json!({})];
        let q = |style, explode| {
            let p = param(ParamIn::Query, style, explode);
            empty
                .clone()
                .map(|v| query(&p, &v).unwrap_or_else(|e| e.to_string()))
        };
        assert_eq!(q(Style::Form, true), ["color=", "color="]);
        assert_eq!(q(Style::Form, false), ["color=", "color="]);
        assert_eq!(q(Style::SpaceDelimited, false)[0], "color=");
        assert!(q(Style::SpaceDelimited, false)[1].contains("is an object"));
        assert_eq!(q(Style::DeepObject, true)[1], "");
        let p = |style, explode| {
            let p = param(ParamIn::Path, style, explode);
            empty.clone().map(|v| path(&p, &v).unwrap())
        };
        assert_eq!(p(Style::Label, true), [".", "."]);
        assert_eq!(p(Style::Label, false), [".", "."]);
        assert_eq!(p(Style::Matrix, true), [";color", ";color"]);
        assert_eq!(p(Style::Simple, false), ["", ""]);
        let matrix = param(ParamIn::Path, Style::Matrix, false);
        assert_eq!(path(&matrix, &json!("")).unwrap(), ";color");
    }

    #[test]
    fn values_are_percent_encoded_and_delimiters_are_not() {
        let form = param(ParamIn::Query, Style::Form, false);
        assert_eq!(
            query(&form, &json!(["a,b", "c d", "e&f=g", "ü"])).unwrap(),
            "color=a%2Cb,c+d,e%26f%3Dg,%C3%BC"
        );
        let form = param(ParamIn::Query, Style::Form, true);
        // Scalars are encoded as conform always sent them.
        assert_eq!(
            query(&form, &json!("x y*~/1")).unwrap(),
            "color=x+y*%7E%2F1"
        );
        assert_eq!(query(&form, &json!(5)).unwrap(), "color=5");
        assert_eq!(query(&form, &json!(null)).unwrap(), "color=null");
        let reserved = Parameter {
            allow_reserved: true,
            ..form.clone()
        };
        assert_eq!(
            query(&reserved, &json!("a/b?c:d,e f#g&h=i+j")).unwrap(),
            "color=a/b?c:d,e%20f%23g%26h%3Di+j"
        );
        let deep = param(ParamIn::Query, Style::DeepObject, true);
        assert_eq!(
            query(&deep, &json!({"a b": "c&d"})).unwrap(),
            "color%5Ba+b%5D=c%26d"
        );
        let simple = param(ParamIn::Path, Style::Simple, false);
        assert_eq!(path(&simple, &json!("a,b/c d")).unwrap(), "a,b%2Fc%20d");
        assert_eq!(
            path(&simple, &json!(["a,b", "c;d"])).unwrap(),
            "a%2Cb,c%3Bd"
        );
        let matrix = param(ParamIn::Path, Style::Matrix, true);
        assert_eq!(path(&matrix, &json!("a=b")).unwrap(), ";color=a%3Db");
    }

    #[test]
    fn content_parameters_are_sent_as_text() {
        let p = Parameter {
            content: true,
            ..param(ParamIn::Query, Style::Form, true)
        };
        assert_eq!(
            query(&p, &json!({"a": [1]})).unwrap(),
            "color=%7B%22a%22%3A%5B1%5D%7D"
        );
    }

    #[test]
    fn spanning_path_values_keep_their_slashes_but_not_dot_segments() {
        let multi = Parameter {
            multi_segment: true,
            ..param(ParamIn::Path, Style::Simple, false)
        };
        assert_eq!(path(&multi, &json!("heads/main")).unwrap(), "heads/main");
        assert_eq!(
            path(&multi, &json!("a b/c?d#e")).unwrap(),
            "a%20b/c%3Fd%23e"
        );
        for bad in ["..", "a/../b", "./a", "a/."] {
            let e = path(&multi, &json!(bad)).unwrap_err();
            assert!(
                matches!(e.problem, Problem::DotSegment { .. }),
                "{bad}: {e}"
            );
        }
        assert_eq!(path(&multi, &json!("a..b/.c")).unwrap(), "a..b/.c");
        assert_eq!(path_piece(&multi, &json!("x/y")).unwrap(), "x/y");
        assert_eq!(path_piece(&multi, &json!(".")).unwrap(), ".");
        assert!(path_piece(&multi, &json!("a/../b")).is_err());
        let single = param(ParamIn::Path, Style::Simple, false);
        assert_eq!(path_piece(&single, &json!("x/y")).unwrap(), "x%2Fy");
        let reserved = Parameter {
            allow_reserved: true,
            ..single
        };
        assert_eq!(path(&reserved, &json!("docs/a.md")).unwrap(), "docs/a.md");
    }

    #[test]
    fn nested_values_are_refused() {
        let p = param(ParamIn::Query, Style::DeepObject, true);
        let e = query(&p, &json!({"a": {"b": 1}})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "query parameter `color` holds an object at `a`, which style deepObject cannot serialise: it takes an object whose members are scalars"
        );
        let p = param(ParamIn::Query, Style::Form, true);
        assert!(query(&p, &json!([1, [2]])).is_err());
        let p = param(ParamIn::Path, Style::Simple, false);
        assert!(path(&p, &json!([{"a": 1}])).is_err());
        let p = param(ParamIn::Header, Style::Simple, false);
        assert!(header(&p, &json!({"a": []})).is_err());
    }

    #[test]
    fn schema_types_refuse_other_shapes() {
        let typed = |t: &str| Parameter {
            schema_type: Some(t.into()),
            ..param(ParamIn::Query, Style::Form, true)
        };
        let e = schema_type(&typed("string"), &json!(["a"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "query parameter `color` is an array, but the contract's schema for it is of type `string`"
        );
        assert!(schema_type(&typed("integer"), &json!({"a": 1})).is_err());
        assert!(schema_type(&typed("array"), &json!({"a": 1})).is_err());
        assert!(schema_type(&typed("object"), &json!([1])).is_err());
        assert!(schema_type(&typed("array"), &json!([1])).is_ok());
        assert!(schema_type(&typed("string"), &json!("a")).is_ok());
        assert!(schema_type(&typed("array"), &json!("a")).is_ok());
        assert!(schema_type(&param(ParamIn::Query, Style::Form, true), &json!([1])).is_ok());
    }
}
