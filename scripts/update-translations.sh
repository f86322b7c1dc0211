#!/usr/bin/env bash
# Re-extract the UI strings and merge them into every catalog (then translate the new entries).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
  --ignore-dirs=".venv tests" -o learnhub/translations/messages.pot .
.venv/bin/pybabel update -i learnhub/translations/messages.pot -d learnhub/translations --no-fuzzy-matching
