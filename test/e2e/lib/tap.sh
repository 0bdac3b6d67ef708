# TAP helpers for the end-to-end scripts (sourced): check "description" command... prints
# "ok N - ..." or "not ok N - ..."; finish prints the plan and exits non-zero on any failure.
n=0
failed=0
check() {  # description, command...
  local what=$1; shift
  n=$((n + 1))
  if "$@" >/dev/null 2>&1; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=$((failed + 1)); fi
}
not() { ! "$@"; }
finish() {
  echo "1..$n"
  exit $((failed > 0))
}
