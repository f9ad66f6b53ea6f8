# Sourced by the scripts: find Python 3.11+ and make the project's virtual environment.
find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "nimgraph needs Python 3.11 or newer; install it (e.g. apt-get install python3.11) and run again" >&2
  return 1
}

make_venv() {
  local extras="$1"
  local python
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $python"
    "$python" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  echo "Installing nimgraph${extras}"
  .venv/bin/python -m pip install --quiet -e ".${extras}"
}
