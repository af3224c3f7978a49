#!/usr/bin/env bash
# skip-or-fail.sh "WHAT" "WHY": a test stage cannot run. Under CI (CI=true) that is a failure;
# on a developer's machine the stage is skipped with a loud message.
set -euo pipefail
# shellcheck source=bin/lib.sh
source "$(dirname "$0")/lib.sh"

what=$1
why=${2:-}
if is_ci; then
    loud "失败 FAILED: ${what}" "${why}" "CI=true: this stage must run in CI."
    exit 1
fi
loud "已跳过 SKIPPED: ${what}" "${why}" "本机跳过；CI 中此项会失败。This stage was NOT run; under CI=true it fails."
