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
check_tap() {  # prefix, command... : the command's own TAP lines, renumbered into this stream
  local prefix=$1 out line rc=0; shift
  out=$("$@" 2>&1) || rc=1
  while IFS= read -r line; do
    if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (-\ )?(.*)$ ]]; then
      n=$((n + 1))
      echo "${BASH_REMATCH[1]}ok $n - $prefix${BASH_REMATCH[3]}"
      [[ -z ${BASH_REMATCH[1]} ]] || failed=$((failed + 1))
    elif [[ $line == \#* ]]; then
      echo "$line"
    elif [[ -n $line && ! $line =~ ^1\.\.[0-9]+$ ]]; then
      echo "# $line"
    fi
  done <<<"$out"
  if [[ $rc -ne 0 ]]; then  # failed without a failing test line (it could not run)
    n=$((n + 1)); echo "not ok $n - $prefix${1##*/} ran to the end"; failed=$((failed + 1))
  fi
}
finish() {
  echo "1..$n"
  exit $((failed > 0))
}
