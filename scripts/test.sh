#!/usr/bin/env bash
# Entourage: THE single command that runs all tests.
#
#   scripts/test.sh
#   TEST_PROJECTS="Entourage.Tests" scripts/test.sh            # subset (names, dirs or .csproj paths)
#   TEST_FILTER="FullyQualifiedName~Sessions" scripts/test.sh  # passed to dotnet test --filter
#
# Works from a clean clone, as root, without a terminal, and is idempotent. It:
#   1. installs what is missing: postgresql + chromium (apt), local dotnet tools,
#      tests/agent-clis npm packages (claude / codex CLIs);
#   2. starts PostgreSQL (scripts/pg-test-env.sh) and exports ENTOURAGE_TEST_POSTGRES,
#      ENTOURAGE_TEST_CHROMIUM, ENTOURAGE_REQUIRE_POSTGRES=1;
#   3. builds Entourage.slnx in Release (warnings are errors);
#   4. runs every xunit.v3 project under tests/ with `dotnet test --no-build`, writing TRX
#      files to artifacts/test-results/<project>/<project>.trx;
#   5. prints a per-project table and, as the LAST line, "N passed, N failed, N skipped".
# Exit code is non-zero if the setup or build failed, any test failed, or a project crashed.
#
# Optional env:
#   TEST_FILTER             dotnet test --filter expression (VSTest syntax)
#   TEST_PROJECTS           space-separated subset of test projects
#   TEST_PROJECT_TIMEOUT    per-project wall-clock limit for `timeout` (default 40m)
#   ENTOURAGE_SKIP_INSTALL=1  skip apt/npm/dotnet-tool installation steps
#   ENTOURAGE_PG_FAST=0     keep fsync on in the test cluster (see scripts/pg-test-env.sh)

set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

export DEBIAN_FRONTEND=noninteractive
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_UI_LANGUAGE=en MSBUILDDISABLENODEREUSE=1
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

ARTIFACTS="$ROOT/artifacts"
RESULTS="$ARTIFACTS/test-results"
mkdir -p "$RESULTS"

log() { echo "==> $*"; }
warn() { echo "WARNING: $*" >&2; }

# Setup/build failure: explain, then the closing line, then exit non-zero.
die() {
    echo "ERROR: $*" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
}

# Run a command quietly into a log file; on failure show its tail.
quiet() {
    local logfile="$1"; shift
    if ! "$@" >"$logfile" 2>&1 </dev/null; then
        tail -n 40 "$logfile" >&2
        return 1
    fi
}

# ---------------------------------------------------------------------------
# 1. Install prerequisites
# ---------------------------------------------------------------------------
install_apt_packages() {
    local need=()
    if ! { command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; }; then
        need+=(postgresql)
    fi
    if [ ! -x /usr/bin/chromium ]; then
        need+=(chromium)
    fi
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages (${need[*]}) and not root: apt-get install -y ${need[*]}"
    fi
    log "apt-get install ${need[*]}"
    quiet "$ARTIFACTS/apt.log" apt-get update -qq ||
        { sleep 5; quiet "$ARTIFACTS/apt.log" apt-get update -qq; } ||
        die "apt-get update failed (see $ARTIFACTS/apt.log)"
    quiet "$ARTIFACTS/apt.log" apt-get install -y -qq "${need[@]}" ||
        die "apt-get install ${need[*]} failed (see $ARTIFACTS/apt.log)"
}

restore_dotnet_tools() {
    [ -f .config/dotnet-tools.json ] || return 0
    log "dotnet tool restore"
    quiet "$ARTIFACTS/dotnet-tool-restore.log" dotnet tool restore ||
        { sleep 5; quiet "$ARTIFACTS/dotnet-tool-restore.log" dotnet tool restore; } ||
        die "dotnet tool restore failed (see $ARTIFACTS/dotnet-tool-restore.log)"
}

install_agent_clis() {
    local dir="$ROOT/tests/agent-clis"
    [ -f "$dir/package-lock.json" ] || return 0
    local stamp="$dir/node_modules/.entourage-lock.sha256"
    local want
    want=$(sha256sum "$dir/package-lock.json" "$dir/package.json" 2>/dev/null | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "tests/agent-clis: node_modules up to date"
    else
        log "npm ci (tests/agent-clis)"
        (cd "$dir" && quiet "$ARTIFACTS/npm-ci.log" npm ci --no-audit --no-fund --loglevel=error) ||
            { sleep 5; (cd "$dir" && quiet "$ARTIFACTS/npm-ci.log" npm ci --no-audit --no-fund --loglevel=error); } ||
            die "npm ci in tests/agent-clis failed (see $ARTIFACTS/npm-ci.log)"
    fi

    # @anthropic-ai/claude-code ships bin/claude.exe as a ~500-byte shell stub; its
    # postinstall (install.cjs) replaces it with the native binary from the
    # @anthropic-ai/claude-code-<platform> optional dependency. If scripts did not run
    # (--ignore-scripts, npm allowScripts policy, ...), run it ourselves.
    local claude="$dir/node_modules/.bin/claude"
    if [ -e "$claude" ]; then
        local size
        size=$(stat -L -c %s "$claude" 2>/dev/null || echo 0)
        if [ "$size" -lt 1000000 ] && [ -f "$dir/node_modules/@anthropic-ai/claude-code/install.cjs" ]; then
            log "claude CLI is a stub ($size bytes): running @anthropic-ai/claude-code/install.cjs"
            (cd "$dir" && quiet "$ARTIFACTS/claude-install.log" node node_modules/@anthropic-ai/claude-code/install.cjs) ||
                die "claude-code install.cjs failed (see $ARTIFACTS/claude-install.log)"
            size=$(stat -L -c %s "$claude" 2>/dev/null || echo 0)
            [ "$size" -ge 1000000 ] || die "claude CLI is still a stub after install.cjs"
        fi
    fi
    echo "$want" >"$stamp"
}

if [ "${ENTOURAGE_SKIP_INSTALL:-0}" != 1 ]; then
    install_apt_packages
    restore_dotnet_tools
    install_agent_clis
fi

# ---------------------------------------------------------------------------
# 2. Services and environment
# ---------------------------------------------------------------------------
log "PostgreSQL"
# shellcheck source=scripts/pg-test-env.sh
source "$ROOT/scripts/pg-test-env.sh" || die "could not start/prepare PostgreSQL"

export ENTOURAGE_TEST_CHROMIUM="${ENTOURAGE_TEST_CHROMIUM:-/usr/bin/chromium}"
export ENTOURAGE_REQUIRE_POSTGRES=1
[ -x "$ENTOURAGE_TEST_CHROMIUM" ] || warn "ENTOURAGE_TEST_CHROMIUM=$ENTOURAGE_TEST_CHROMIUM is not executable"

# ---------------------------------------------------------------------------
# 3. Discover test projects
# ---------------------------------------------------------------------------
is_test_project() {
    # A test project references xunit.v3 (xunit.v3, xunit.v3.mtp-off, ...) or says IsTestProject.
    grep -qiE 'Include="xunit\.v3(\.[a-z0-9.-]+)?"|<IsTestProject>\s*true\s*</IsTestProject>' "$1"
}

ALL_TEST_PROJECTS=()
while IFS= read -r proj; do
    is_test_project "$proj" && ALL_TEST_PROJECTS+=("$proj")
done < <(find tests -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' -not -path '*/node_modules/*' 2>/dev/null | sed 's#^\./##' | sort)

PROJECTS=()
if [ -n "${TEST_PROJECTS:-}" ]; then
    for want in $TEST_PROJECTS; do
        want="${want%/}"
        found=""
        for proj in "${ALL_TEST_PROJECTS[@]}"; do
            name="$(basename "$proj" .csproj)"
            if [ "$want" = "$name" ] || [ "$want" = "$proj" ] || [ "$want" = "$(dirname "$proj")" ] ||
               [ "$want" = "./$proj" ] || [ "$want" = "./$(dirname "$proj")" ]; then
                found="$proj"; break
            fi
        done
        [ -n "$found" ] || die "TEST_PROJECTS: '$want' is not a test project under tests/ (have: $(for p in "${ALL_TEST_PROJECTS[@]}"; do basename "$p" .csproj; done | tr '\n' ' '))"
        PROJECTS+=("$found")
    done
else
    PROJECTS=("${ALL_TEST_PROJECTS[@]}")
fi
[ ${#PROJECTS[@]} -gt 0 ] || die "no test projects (referencing xunit.v3) found under tests/"

# ---------------------------------------------------------------------------
# 4. Build
# ---------------------------------------------------------------------------
SOLUTION=""
if [ -f Entourage.slnx ]; then
    SOLUTION=Entourage.slnx
else
    SOLUTION=$(ls ./*.slnx ./*.sln 2>/dev/null | head -n 1)
fi
BUILD_ARGS=(-c Release -nologo -v:minimal --disable-build-servers -p:UseSharedCompilation=false)

if [ -n "$SOLUTION" ]; then
    log "dotnet build $SOLUTION -c Release"
    if ! dotnet build "$SOLUTION" "${BUILD_ARGS[@]}" </dev/null 2>&1 | tee "$ARTIFACTS/build.log"; then
        echo "ERROR: build failed (log: artifacts/build.log)" >&2
        echo "0 passed, 1 failed, 0 skipped"
        exit 1
    fi
fi
# Test projects that the solution does not contain are built on their own.
for proj in "${PROJECTS[@]}"; do
    if [ -z "$SOLUTION" ] || ! grep -qF "$(basename "$proj")" "$SOLUTION"; then
        log "dotnet build $proj -c Release (not in solution)"
        if ! dotnet build "$proj" "${BUILD_ARGS[@]}" </dev/null 2>&1 | tee -a "$ARTIFACTS/build.log"; then
            echo "ERROR: build of $proj failed" >&2
            echo "0 passed, 1 failed, 0 skipped"
            exit 1
        fi
    fi
done

# ---------------------------------------------------------------------------
# 5. Run tests
# ---------------------------------------------------------------------------
# `dotnet test` on the .NET 10 SDK runs VSTest unless global.json opts into
# Microsoft.Testing.Platform ("test": { "runner": "Microsoft.Testing.Platform" }).
MODE=vstest
if [ -f global.json ] && tr -d ' \t\r\n' <global.json | grep -q '"runner":"Microsoft.Testing.Platform"'; then
    MODE=mtp
fi

# attr NAME STRING -> value of NAME="..." in STRING (0 if absent)
attr() {
    local v
    v=$(grep -oE "[[:space:]]$1=\"[0-9]+\"" <<<"$2" | head -n 1 | grep -oE '[0-9]+')
    echo "${v:-0}"
}

# trx_counts FILE -> "passed failed skipped total"
trx_counts() {
    local flat counters p f e t a total executed notexec skipped_results failed_results
    flat=$(tr '\r\n' '  ' <"$1")
    counters=$(grep -oE '<Counters [^>]*>' <<<"$flat" | head -n 1)
    p=$(attr passed "$counters"); f=$(attr failed "$counters"); e=$(attr error "$counters")
    t=$(attr timeout "$counters"); a=$(attr aborted "$counters")
    total=$(attr total "$counters"); executed=$(attr executed "$counters"); notexec=$(attr notExecuted "$counters")
    # VSTest's TRX logger leaves notExecuted=0 for skipped xunit tests; count the results.
    skipped_results=$(grep -oE '<UnitTestResult [^>]*>' <<<"$flat" | grep -c 'outcome="NotExecuted"')
    failed_results=$(grep -oE '<UnitTestResult [^>]*>' <<<"$flat" | grep -cE 'outcome="(Failed|Error|Timeout|Aborted)"')
    local failed=$((f + e + t + a)) skipped=$notexec
    [ "$skipped_results" -gt "$skipped" ] && skipped=$skipped_results
    [ $((total - executed)) -gt "$skipped" ] && skipped=$((total - executed))
    [ "$failed_results" -gt "$failed" ] && failed=$failed_results
    echo "$p $failed $skipped $total"
}

TOTAL_P=0 TOTAL_F=0 TOTAL_S=0
ROWS=()
BROKEN=()
TIMEOUT="${TEST_PROJECT_TIMEOUT:-40m}"

for proj in "${PROJECTS[@]}"; do
    name="$(basename "$proj" .csproj)"
    outdir="$RESULTS/$name"
    rm -rf "$outdir"
    mkdir -p "$outdir"
    trx="$outdir/$name.trx"

    if [ "$MODE" = mtp ]; then
        cmd=(dotnet test --project "$proj" --no-build -c Release --results-directory "$outdir"
             --report-xunit-trx --report-xunit-trx-filename "$name.trx")
    else
        cmd=(dotnet test "$proj" --no-build -c Release --results-directory "$outdir"
             --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal")
    fi
    [ -n "${TEST_FILTER:-}" ] && cmd+=(--filter "$TEST_FILTER")

    log "[$name] ${cmd[*]}"
    start=$(date +%s)
    timeout -k 30s "$TIMEOUT" "${cmd[@]}" </dev/null 2>&1 | tee "$outdir/console.log"
    rc=${PIPESTATUS[0]}
    secs=$(( $(date +%s) - start ))

    # xunit/VSTest may name the file differently if it already existed; take the newest.
    [ -f "$trx" ] || trx=$(ls -t "$outdir"/*.trx "$outdir"/*/*.trx 2>/dev/null | head -n 1)

    status=ok
    if [ -n "$trx" ] && [ -f "$trx" ]; then
        read -r p f s total < <(trx_counts "$trx")
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            # 8 = MTP "zero tests ran" (e.g. a filter matched nothing here): not a crash.
            if ! { [ "$MODE" = mtp ] && [ "$rc" -eq 8 ]; }; then
                f=1; status="CRASHED (exit $rc)"
            fi
        fi
        [ "$status" = ok ] && [ "$f" -gt 0 ] && status=FAILED
        [ "$status" = ok ] && [ "$total" -eq 0 ] && status="no tests"
    else
        p=0 f=1 s=0
        status="CRASHED (exit $rc, no trx)"
    fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        status="TIMED OUT after $TIMEOUT"
        [ "$f" -eq 0 ] && f=1
    fi
    case "$status" in CRASHED*|TIMED*) BROKEN+=("$name: $status");; esac

    TOTAL_P=$((TOTAL_P + p)); TOTAL_F=$((TOTAL_F + f)); TOTAL_S=$((TOTAL_S + s))
    ROWS+=("$(printf '%-40s %-28s %7s %7s %7s %6ss' "$name" "$status" "$p" "$f" "$s" "$secs")")
done

# ---------------------------------------------------------------------------
# 6. Summary
# ---------------------------------------------------------------------------
echo
echo "Test results (TRX files in artifacts/test-results/, runner: $MODE${TEST_FILTER:+, filter: $TEST_FILTER})"
printf '%-40s %-28s %7s %7s %7s %7s\n' PROJECT STATUS PASSED FAILED SKIPPED TIME
for row in "${ROWS[@]}"; do echo "$row"; done
for b in "${BROKEN[@]}"; do echo "ERROR: project did not run to completion: $b" >&2; done
# Name every failed test with the start of its message, so a log's tail says what broke.
for trx in "$RESULTS"/*/*.trx; do
    [ -f "$trx" ] || continue
    perl -0777 -ne '
        # Passed results are often self-closing, so take each result up to the next one.
        for my $r (split /(?=<UnitTestResult\b)/) {
            my ($attrs, $body) = $r =~ /^<UnitTestResult\b([^>]*)>(.*)/s or next;
            next unless $attrs =~ /outcome="(Failed|Error|Timeout|Aborted)"/;
            my ($name) = $attrs =~ /testName="([^"]*)"/;
            my ($msg) = $body =~ /<Message>(.*?)<\/Message>/s;
            $msg //= "";
            $msg =~ s/&lt;/</g; $msg =~ s/&gt;/>/g; $msg =~ s/&quot;/"/g; $msg =~ s/&apos;/\x27/g; $msg =~ s/&amp;/&/g;
            my @lines = grep { /\S/ } split /\n/, $msg;
            print "FAILED $name\n";
            print "    $_\n" for @lines[0 .. ($#lines < 5 ? $#lines : 5)];
        }' "$trx"
done
echo
echo "$TOTAL_P passed, $TOTAL_F failed, $TOTAL_S skipped"

[ "$TOTAL_F" -eq 0 ] || exit 1
exit 0
