#!/usr/bin/env bash
# buf breaking against the contract on main; on main itself, against the previous commit.
# Passes (and says so) when there is no earlier contract to compare with.
set -euo pipefail
proto=proto/artorizer/v1/artorizer.proto
branch=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo "")
if [[ "$branch" == "main" ]]; then against_ref="HEAD~1"; else against_ref="main"; fi
if ! git cat-file -e "${against_ref}:${proto}" 2>/dev/null; then
  echo "buf breaking: no earlier contract at ${against_ref}; nothing to compare"
  exit 0
fi
against=".git#ref=$(git rev-parse "$against_ref")"
echo "buf breaking against ${against_ref}"
node_modules/.bin/buf breaking --against "$against"
