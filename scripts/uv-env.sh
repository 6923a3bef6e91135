# Sourced by the install-*.sh scripts: the tools directory and a pinned uv in a venv of its own
# (not the system Python's site-packages). Sets TOOLS and UV.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${FEEDLOOP_TOOLS_DIR:-${FEEDLOOP_HOME:-$ROOT/.feedloop}/tools}"
UV_VERSION=0.13.9
UV="$TOOLS/uv-$UV_VERSION/bin/uv"
mkdir -p "$TOOLS"
if [ ! -x "$UV" ]; then
  echo "installing uv $UV_VERSION into $TOOLS/uv-$UV_VERSION" >&2
  python3 -m venv "$TOOLS/uv-$UV_VERSION"
  "$TOOLS/uv-$UV_VERSION/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
