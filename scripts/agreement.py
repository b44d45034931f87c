#!/usr/bin/env python3
"""openapi-core's verdicts on response bodies, for tests/agreement.rs.

    agreement.py SPEC CASES

SPEC is an OpenAPI 3.0 description (JSON); CASES a JSON list of cases, each
{"method", "path" (the template), "status", "media_type", "body"}. Prints one
JSON line per case, in order:

    {"valid": false, "message": "at /0/payload: ...", "what_if": {...}}

`valid` and `message` are openapi-core's verdict: the body (sent as JSON
bytes) through openapi-core's response-data validation for that operation,
status and media type (V30ResponseDataValidator: its response and media-type
lookup, deserialisation and OAS 3.0 read-direction schema validation, headers
left out). Media types other than application/json are read as JSON too
(openapi-core would otherwise hand the schema raw bytes).

For an invalid body, `what_if` gives openapi-core's verdict again with one of
conform's deliberate departures from the OAS 3.0.3 letter applied (and with
all of them, "all"), so the test can tell a known difference from anything
else mechanically: a difference is explained when the departure alone makes
openapi-core agree.

- nullable-enum: `nullable: true` beside an `enum` that lacks `null` admits
  `null` (conform adds `null` to the enum; the letter keeps `enum` as is).
- nullable-composite: `nullable: true` beside `oneOf`, `anyOf`, `allOf`,
  `not` or `$ref` admits `null` whatever those say (conform makes the schema
  `anyOf: [<schema>, {type: null}]`; the letter gives `nullable` meaning only
  beside a `type`, so `null` must pass the composed schemas).
- discriminator-non-object: a `oneOf`/`anyOf` with a `discriminator` judges
  anything that is not an object by the `oneOf`/`anyOf` itself (openapi-core
  refuses it outright: "is not of type 'object'").
- discriminator-property-absent: likewise an object without the
  discriminating property (openapi-core refuses it: "does not contain
  discriminating property").

Exits 3 when openapi-core cannot be imported.
"""
import json
import sys

try:
    import openapi_core
    from jsonschema import _keywords as jsonschema_keywords
    from jsonschema.exceptions import best_match
    from jsonschema.validators import extend
    from jsonschema_path import SchemaPath
    from openapi_core.deserializing.media_types.util import json_loads
    from openapi_core.validation.response.validators import V30ResponseDataValidator
    from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
    from openapi_schema_validator import OAS30ReadValidator
    from openapi_schema_validator import _keywords as oas_keywords
except ImportError as error:
    print(f"openapi-core is not installed ({error}): pip install it, see .ci/run", file=sys.stderr)
    sys.exit(3)


def departing(departures):
    """The keywords of OAS30ReadValidator that change under `departures`."""
    composing = {
        "$ref": (jsonschema_keywords.ref, None),
        "allOf": (oas_keywords.allOf, None),
        "anyOf": (oas_keywords.anyOf, jsonschema_keywords.anyOf),
        "oneOf": (oas_keywords.oneOf, jsonschema_keywords.oneOf),
        "not": (jsonschema_keywords.not_, None),
    }

    def composite(oas_keyword, plain_keyword):
        def keyword(validator, value, instance, schema):
            nullable = instance is None and schema.get("nullable") is True
            if "nullable-composite" in departures and nullable:
                return
            if (
                "discriminator-non-object" in departures
                and plain_keyword is not None
                and "discriminator" in schema
                and not validator.is_type(instance, "object")
            ):
                yield from plain_keyword(validator, value, instance, schema)
                return
            if (
                "discriminator-property-absent" in departures
                and plain_keyword is not None
                and isinstance(schema.get("discriminator"), dict)
                and validator.is_type(instance, "object")
                and schema["discriminator"].get("propertyName") not in instance
            ):
                yield from plain_keyword(validator, value, instance, schema)
                return
            yield from oas_keyword(validator, value, instance, schema)

        return keyword

    def enum(validator, enums, instance, schema):
        if "nullable-enum" in departures and instance is None and schema.get("nullable") is True:
            return
        yield from jsonschema_keywords.enum(validator, enums, instance, schema)

    keywords = {name: composite(*pair) for name, pair in composing.items()}
    keywords["enum"] = enum
    return keywords


DEPARTURES = [
    "nullable-enum",
    "nullable-composite",
    "discriminator-non-object",
    "discriminator-property-absent",
]


def message(errors):
    """The first error, one line."""
    error = errors[0]
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        best = best_match(schema_errors)
        where = "/".join(str(p) for p in best.absolute_path)
        text = best.message
        shown = repr(best.instance)
        if len(shown) > 60 and text.startswith(shown):
            # "{...} is not valid under any of the given schemas"
            text = ("{...}" if isinstance(best.instance, dict) else "[...]") + text[len(shown):]
        text = f"at /{where}: {text}"
    else:
        text = f"{type(error).__name__}: {error}" + (f" ({cause})" if cause else "")
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def main():
    spec_file, cases_file = sys.argv[1:3]
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    with open(cases_file, encoding="utf-8") as f:
        cases = json.load(f)
    root = SchemaPath.from_dict(spec)
    loads = {c["media_type"]: json_loads for c in cases if c["media_type"] != "application/json"}

    def validator(departures):
        cls = extend(OAS30ReadValidator, departing(departures)) if departures else OAS30ReadValidator
        factory = SchemaValidatorsFactory(cls, OAS30ReadValidator.FORMAT_CHECKER)
        return V30ResponseDataValidator(
            root, schema_validators_factory=factory, extra_media_type_deserializers=loads
        )

    letter = validator([])
    what_if = {name: validator([name]) for name in DEPARTURES}
    what_if["all"] = validator(DEPARTURES)

    print(json.dumps({"openapi_core": openapi_core.__version__}), flush=True)
    out = sys.stdout
    for case in cases:
        operation = root / "paths" / case["path"] / case["method"].lower()
        data = json.dumps(case["body"]).encode()

        def errors(v):
            # The media-type path of V30ResponseDataValidator.iter_errors,
            # for an operation named by its template (no path finding).
            return list(v._iter_data_errors(case["status"], data, case["media_type"], operation))

        found = errors(letter)
        verdict = {"valid": not found, "message": message(found) if found else None}
        if found:
            verdict["what_if"] = {name: not errors(v) for name, v in what_if.items()}
        out.write(json.dumps(verdict) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
