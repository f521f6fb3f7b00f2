#!/usr/bin/env bash
# Test the Galaxy wrappers in a real Galaxy server: install Galaxy 26.1.2 (PyPI) and planemo
# 0.75.47 into their own venvs, start Galaxy on 127.0.0.1 (sqlite, local runner, our
# tool_conf.xml, the tests' `huggingface` data table), lint every tool and the ToolShed metadata,
# run every tool's <tests>
# with `planemo test --engine external_galaxy`, then the workflow tests, and stop the server.
#
# Usage: galaxy/test-in-galaxy.sh [TOOL_XML | WORKFLOW.ga ...]
#        (default: every tools/*/*.xml and galaxy/workflows/*.ga; given paths: only those)
#        galaxy/test-in-galaxy.sh --install-only
#        (only the two venvs: CI installs them while the test suite runs)
# Environment:
#   GALAXY_WORK    work dir for venvs, config, database, logs (default /tmp/enhancer-galaxy;
#                  the venvs are reused when present)
#   ENHANCER_BIN   bin dir holding our console scripts, put first on every job's PATH
#                  (default: the repo's .venv/bin)
#   GALAXY_PORT    port on 127.0.0.1 (default: a free one)
#   GALAXY_PYTHON  interpreter for the two venvs (default python3.11)
#   SKIP_WORKFLOWS=1  tool tests only
# Exit status: non-zero when any install, lint, tool test or workflow test fails.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${GALAXY_WORK:-/tmp/enhancer-galaxy}
ENHANCER_BIN=${ENHANCER_BIN:-$REPO/.venv/bin}
PY=${GALAXY_PYTHON:-python3.11}
GALAXY_VERSION=26.1.2
PLANEMO_VERSION=0.75.47
GALAXY_PINS=$REPO/galaxy/galaxy-$GALAXY_VERSION-requirements.txt
ADMIN_KEY=enhancer-ci-admin-key-0123456789   # bootstrap key: server listens on loopback only
T0=$(date +%s)
step() { echo "[test-in-galaxy $(( $(date +%s) - T0 ))s] $*"; }
failures=()
INSTALL_ONLY=
if [ "${1:-}" = --install-only ]; then INSTALL_ONLY=1; shift; fi

if [ -z "$INSTALL_ONLY" ]; then
  ENHANCER_BIN=$(cd "$ENHANCER_BIN" && pwd)
  [ -x "$ENHANCER_BIN/bed-summit-window" ] || { echo "Error: no enhancer-tools console scripts in $ENHANCER_BIN (set ENHANCER_BIN or run 'make install')" >&2; exit 2; }
fi
tool_xmls=(); workflows=()
if [ $# -gt 0 ]; then
  for path in "$@"; do
    case $path in *.ga) workflows+=("$path") ;; *) tool_xmls+=("$path") ;; esac
  done
else
  mapfile -t tool_xmls < <(cd "$REPO" && ls tools/*/*.xml 2>/dev/null | grep -v '/macros\.xml$' | sort)
  mapfile -t workflows < <(cd "$REPO" && ls galaxy/workflows/*.ga 2>/dev/null | sort)
fi
[ -z "${SKIP_WORKFLOWS:-}" ] || workflows=()
[ $(( ${#tool_xmls[@]} + ${#workflows[@]} )) -gt 0 ] || { echo "Error: no tool XML under $REPO/tools" >&2; exit 2; }
mkdir -p "$WORK"

# 1. Two venvs (server and client pin different versions). A stamp marks a finished install.
step "install Galaxy $GALAXY_VERSION into $WORK/gx"
if [ ! -f "$WORK/gx/.installed-$GALAXY_VERSION" ]; then
  rm -rf "$WORK/gx"; "$PY" -m venv "$WORK/gx"
  # the metapackage pins certifi==2026.10.19, absent from PyPI: install the pin list, then it alone
  "$WORK/gx/bin/pip" install -q -r "$GALAXY_PINS"
  "$WORK/gx/bin/pip" install -q --no-deps "galaxy==$GALAXY_VERSION"
  touch "$WORK/gx/.installed-$GALAXY_VERSION"
fi
step "install planemo $PLANEMO_VERSION into $WORK/pl"
if [ ! -f "$WORK/pl/.installed-$PLANEMO_VERSION" ]; then
  rm -rf "$WORK/pl"; "$PY" -m venv "$WORK/pl"
  "$WORK/pl/bin/pip" install -q "planemo==$PLANEMO_VERSION"
  touch "$WORK/pl/.installed-$PLANEMO_VERSION"
fi
PLANEMO=$WORK/pl/bin/planemo
[ -z "$INSTALL_ONLY" ] || { step "installed"; exit 0; }

# 2. Lint (offline): every tool at warn level, the ToolShed metadata (.shed.yml of each tool
#    repository and of the suite; `version_bumped` asks the ToolShed over the network, so it is
#    skipped), the workflows with workflow_lint.
if [ ${#tool_xmls[@]} -gt 0 ]; then
  step "planemo lint ${#tool_xmls[@]} tools"
  (cd "$REPO" && "$PLANEMO" lint --fail_level warn "${tool_xmls[@]}") || failures+=("lint")
  step "planemo shed_lint --tools (tools/, suites/)"
  (cd "$REPO" && "$PLANEMO" shed_lint --tools --fail_level warn --skip version_bumped -r tools/ suites/) \
    || failures+=("shed_lint")
fi
if [ ${#workflows[@]} -gt 0 ]; then
  step "planemo workflow_lint ${workflows[*]}"
  (cd "$REPO" && "$PLANEMO" workflow_lint --fail_level warn "${workflows[@]}") || failures+=("workflow_lint")
fi

# 3. Server config: a fresh database and job dirs every run; tools from the repo.
PORT=${GALAXY_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL=http://127.0.0.1:$PORT
rm -rf "$WORK/data" "$WORK/tool-data"; mkdir -p "$WORK/data" "$WORK/tool-data"
# Our tool_conf.xml, less the wrappers not written yet (listed, so the gap stays visible).
not_wrapped=()
while IFS= read -r line; do
  if [[ $line =~ \<tool\ file=\"([^\"]+)\" ]] && [ ! -f "$REPO/tools/${BASH_REMATCH[1]}" ]; then
    not_wrapped+=("${BASH_REMATCH[1]}"); continue
  fi
  printf '%s\n' "$line"
done < "$REPO/galaxy/tool_conf.xml" > "$WORK/tool_conf.xml"
[ ${#not_wrapped[@]} -eq 0 ] || step "tool_conf.xml entries without a wrapper yet: ${not_wrapped[*]}"
# The `huggingface` table of the tests (tools-iuc habit: tool_data_table_conf.xml.test and a
# .loc under test-data/): the tiny DNABERT-2 checkpoint of test-data/, so fine-tuning from a
# registered checkpoint runs for real; ${__HERE__} becomes the tool folder, whose test-data
# links to the repository's.
sed "s|\${__HERE__}|$REPO/tools/dnabert2-finetune|g" "$REPO/test-data/huggingface.loc" > "$WORK/tool-data/huggingface.loc"
# No built-in genomes either: the tests take their genome from the history.
echo "# value	dbkey	name	path" > "$WORK/tool-data/fasta_indexes.loc"
cat > "$WORK/tool_data_table_conf.xml" <<XML
<?xml version="1.0"?>
<tables>
    <table name="huggingface" comment_char="#" allow_duplicate_entries="False">
        <columns>value, name, pipeline_tag, domain, free_tag, version, path</columns>
        <file path="$WORK/tool-data/huggingface.loc"/>
    </table>
    <table name="fasta_indexes" comment_char="#" allow_duplicate_entries="False">
        <columns>value, dbkey, name, path</columns>
        <file path="$WORK/tool-data/fasta_indexes.loc"/>
    </table>
</tables>
XML
cat > "$WORK/galaxy.yml" <<YML
galaxy:
  data_dir: $WORK/data
  database_connection: sqlite:///$WORK/data/universe.sqlite?isolation_level=IMMEDIATE
  database_auto_migrate: true
  tool_config_file: $WORK/tool_conf.xml
  tool_path: $REPO/tools
  tool_data_path: $WORK/tool-data
  tool_data_table_config_path: $WORK/tool_data_table_conf.xml
  id_secret: enhancer-ci-not-secret-0123456789
  bootstrap_admin_api_key: $ADMIN_KEY
  admin_users: admin@example.org
  allow_path_paste: true
  tool_dependency_dir: none          # no conda, no containers: jobs use the PATH set below
  conda_auto_init: false
  conda_auto_install: false
  enable_mulled_containers: false
  watch_tools: false
  enable_celery_tasks: false
  job_config:
    runners:
      local:
        load: galaxy.jobs.runners.local:LocalJobRunner
        workers: 2
    execution:
      default: local
      environments:
        local:
          runner: local
          env:
            - name: PATH
              value: $ENHANCER_BIN:\$PATH
            - name: HF_HUB_OFFLINE
              value: "1"
            - name: TRANSFORMERS_OFFLINE
              value: "1"
YML

# 4. Start the server (galaxy-web runs as root too; gravity does not) and stop it on any exit.
step "start Galaxy on $URL (log: $WORK/galaxy.log)"
( cd "$WORK" && PATH="$WORK/gx/bin:$PATH" exec "$WORK/gx/bin/galaxy-web" -c "$WORK/galaxy.yml" -b "127.0.0.1:$PORT" ) > "$WORK/galaxy.log" 2>&1 &
GX_PID=$!
stop_galaxy() { kill "$GX_PID" 2>/dev/null || true; wait "$GX_PID" 2>/dev/null || true; }
trap stop_galaxy EXIT
for _ in $(seq 1 900); do   # ~1 min on an idle machine; minutes when the CPU is shared
  curl -sf "$URL/api/version" >/dev/null && break
  kill -0 "$GX_PID" 2>/dev/null || { tail -50 "$WORK/galaxy.log"; echo "Error: Galaxy did not start" >&2; exit 1; }
  sleep 1
done
curl -sf "$URL/api/version" >/dev/null || { tail -50 "$WORK/galaxy.log"; echo "Error: Galaxy not ready after 900 s" >&2; exit 1; }
grep -E "Error reading tool|Failed to load tool" "$WORK/galaxy.log" && failures+=("tool loading")

# 5. Tests. Tools and workflows in separate planemo calls: planemo 0.75.47 crashes when a
#    tool precedes a workflow in one call. external_galaxy tool tests use the server's copy
#    of each tool and of its test-data.
planemo_test() {
  "$PLANEMO" test --engine external_galaxy --galaxy_url "$URL" --galaxy_admin_key "$ADMIN_KEY" \
    --simultaneous_uploads --test_timeout 900 --summary minimal "$@"
}
if [ ${#tool_xmls[@]} -gt 0 ]; then
  step "planemo test ${#tool_xmls[@]} tools"
  (cd "$REPO" && planemo_test --test_output "$WORK/tool-tests.html" --test_output_json "$WORK/tool-tests.json" \
     --test_output_junit "$WORK/tool-tests-junit.xml" "${tool_xmls[@]}") || failures+=("tool tests")
fi
if [ ${#workflows[@]} -gt 0 ]; then
  step "planemo test ${workflows[*]}"
  (cd "$REPO" && planemo_test --test_output "$WORK/workflow-tests.html" --test_output_json "$WORK/workflow-tests.json" \
     --test_output_junit "$WORK/workflow-tests-junit.xml" "${workflows[@]}") || failures+=("workflow tests")
fi

stop_galaxy; trap - EXIT
step "done; reports in $WORK/*-tests.html"
if [ ${#failures[@]} -gt 0 ]; then
  echo "FAILED: ${failures[*]} (server log: $WORK/galaxy.log)" >&2
  exit 1
fi
echo "All Galaxy lint and tests passed."
