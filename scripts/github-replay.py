#!/usr/bin/env python3
"""Writes examples/github/replay.json: the responses the GitHub example suite
is replayed against in tests. Each body is the example GitHub's own OpenAPI
description gives for that response (recorded from the real API), so the
replay is what api.github.com answers for octocat/Hello-World. Where an example
breaks the description's own schema, the fix is made here and says why.

    scripts/github-openapi.sh && scripts/github-replay.py
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
spec = json.loads((root / "target/github-openapi/23.0.2/api.github.com.json").read_text())
examples = spec["components"]["examples"]


def example(name):
    return examples[name]["value"]


def repository():
    """The repository example, with `language` (required by the schema, left
    out of GitHub's example; null for Hello-World on the real API) put back,
    in the repository and in its `parent` and `source`."""
    repo = example("full-repository-default-response")
    for r in (repo, repo.get("parent"), repo.get("source")):
        if isinstance(r, dict):
            r.setdefault("language", None)
    return repo


JSON = "application/json; charset=utf-8"
R = "/repos/octocat/Hello-World"
replay = [
    ("GET", R, 200, JSON, repository()),
    ("GET", R + "/issues", 200, JSON, example("issue-items")),
    ("POST", R + "/issues", 201, JSON, example("issue")),
    ("PATCH", R + "/issues/1347", 200, JSON, dict(example("issue"), state="closed")),
    ("GET", R + "/git/ref/heads/featureA", 200, JSON, example("git-ref")),
    (
        "GET",
        R + "/contents/docs",
        200,
        # The object representation, labelled as the real API labels it.
        JSON,
        example("content-file-response-if-content-is-a-directory-object"),
    ),
    (
        "POST",
        R + "/releases/1/assets",
        201,
        JSON,
        example("release-asset-response-for-successful-upload"),
    ),
    (
        "GET",
        "/repos/octocat/conform-no-such-repository",
        404,
        JSON,
        {
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
            "status": "404",
        },
    ),
]
out = [
    {"method": m, "path": p, "status": s, "content_type": t, "body": b}
    for (m, p, s, t, b) in replay
]
(root / "examples/github/replay.json").write_text(json.dumps(out, indent=1) + "\n")
