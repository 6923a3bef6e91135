#!/usr/bin/env bash
# Builds tree-sitter-utf8.wasm: the tree-sitter core and the Python and Java grammars, at the
# versions the Python references run (tree-sitter 0.22.3's vendored core, tree-sitter-python
# 0.23.6, tree-sitter-java 0.23.5), with glue.c, as one self-contained WebAssembly module.
# The .wasm is committed, so neither CI nor users need this toolchain.
#
# Needs: clang, lld, wasi-libc, libclang-rt-dev-wasm32 (Debian: apt-get install clang lld
# wasi-libc libclang-rt-dev-wasm32), pip (the core's source from PyPI) and npm (the grammars'
# sources: the npm packages carry the same parser.c/scanner.c as the PyPI wheels' sources, plus
# the headers those source distributions lack).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --no-binary :all: -d "$work" tree-sitter==0.22.3
tar -xzf "$work/tree-sitter-0.22.3.tar.gz" -C "$work"
for grammar in python@0.23.6 java@0.23.5; do
  mkdir -p "$work/$grammar"
  (cd "$work" && npm pack --silent "tree-sitter-$grammar" >/dev/null)
  tar -xzf "$work/tree-sitter-${grammar/@/-}.tgz" -C "$work/$grammar"
done

core="$work/tree-sitter-0.22.3/tree_sitter/core/lib"
python_grammar="$work/python@0.23.6/package/src"
java_grammar="$work/java@0.23.5/package/src"

common=(--target=wasm32-wasi --sysroot=/usr -O2 -DNDEBUG -fvisibility=hidden)
clang "${common[@]}" -I "$core/include" -I "$core/src" -c "$core/src/lib.c" -o "$work/core.o"
clang "${common[@]}" -I "$python_grammar" -c "$python_grammar/parser.c" -o "$work/python_parser.o"
clang "${common[@]}" -I "$python_grammar" -c "$python_grammar/scanner.c" -o "$work/python_scanner.o"
clang "${common[@]}" -I "$java_grammar" -c "$java_grammar/parser.c" -o "$work/java_parser.o"
clang "${common[@]}" -I "$core/include" -I "$core/src" -c "$here/glue.c" -o "$work/glue.o"

clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 \
  -Wl,--strip-all -Wl,-z,stack-size=8388608 \
  "$work/core.o" "$work/python_parser.o" "$work/python_scanner.o" "$work/java_parser.o" "$work/glue.o" \
  -o "$here/tree-sitter-utf8.wasm"

sha256sum "$here/tree-sitter-utf8.wasm"
