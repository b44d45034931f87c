#!/usr/bin/env bash
# Installs GitHub's REST API descriptions (the npm package @octokit/openapi,
# MIT) under target/github-openapi/, for the GitHub example suite's tests and
# the large-contract figures of `cargo bench`. The version and the archive's
# SHA-256 are pinned; nothing is installed when they are already there.
#
#   scripts/github-openapi.sh          # then: ls target/github-openapi/
set -euo pipefail
cd "$(dirname "$0")/.."

version=23.0.2
sha256=71a18407dd5e8464f4e0525daf03deabbe65abd9287d6adc7b5d98f516cd0d0c
url="https://registry.npmjs.org/@octokit/openapi/-/openapi-$version.tgz"
dest=target/github-openapi

if [ -f "$dest/$version/api.github.com.json" ]; then
  exit 0
fi
mkdir -p "$dest"
archive="$dest/openapi-$version.tgz"
if command -v curl >/dev/null 2>&1; then
  curl -fsSL --retry 3 -o "$archive" "$url"
else
  python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$url" "$archive"
fi
echo "$sha256  $archive" | sha256sum -c --quiet -
rm -rf "$dest/$version" "$dest/package"
tar -xzf "$archive" -C "$dest" package/generated/api.github.com.json package/generated/api.github.com.deref.json
mv "$dest/package/generated" "$dest/$version"
rm -rf "$dest/package" "$archive"
ls -l "$dest/$version"
