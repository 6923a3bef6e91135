import fs from 'node:fs';
import path from 'node:path';

/**
 * Tree-sitter parsing of UTF-8 source through tree-sitter-utf8.wasm (built by build.sh next to
 * this file from glue.c: the tree-sitter 0.22.3 core, tree-sitter-python 0.23.6 and
 * tree-sitter-java 0.23.5, the versions the Python references run). Byte offsets and columns are
 * UTF-8 bytes, as in py-tree-sitter.
 */
export type TreeSitterLanguage = 'python' | 'java';

/** Fields a node can be asked for, in glue.c's FIELDS order. */
const FIELDS = ['name', 'value', 'left', 'right', 'body'] as const;
export type FieldName = (typeof FIELDS)[number];

const GRAMMAR_ID: Record<TreeSitterLanguage, number> = { python: 0, java: 1 };
const WASM_PATH = path.join(__dirname, 'tree-sitter-utf8.wasm');
const NONE = 0xffffffff;
const NAMED = 1;
const MISSING = 2;

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmImports = Record<string, Record<string, (...args: never[]) => number>>;
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: WasmImports) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface GlueExports {
  memory: WasmMemory;
  _initialize(): void;
  feedloop_alloc(size: number): number;
  feedloop_free(pointer: number): void;
  feedloop_parse(grammar: number, source: number, length: number): number;
  feedloop_node_count(tree: number): number;
  feedloop_rows(tree: number): number;
  feedloop_column_count(): number;
  feedloop_node_string(tree: number, row: number): number;
  feedloop_tree_delete(tree: number): void;
}

let glue: GlueExports | undefined;

/**
 * The WASI calls the C library links in. Only stdio for debug output and the clock (parse
 * timeouts, unused here) are imported; output is discarded.
 */
function wasiStubs(memory: () => WasmMemory): WasmImports[string] {
  const EBADF = 8;
  return {
    clock_time_get: (_clock: number, _precision: bigint, out: number) => {
      new DataView(memory().buffer).setBigUint64(out, process.hrtime.bigint(), true);
      return 0;
    },
    fd_write: (_fd: number, iovs: number, iovsLength: number, written: number) => {
      const view = new DataView(memory().buffer);
      let total = 0;
      for (let i = 0; i < iovsLength; i++) total += view.getUint32(iovs + i * 8 + 4, true);
      view.setUint32(written, total, true);
      return 0;
    },
    fd_seek: () => EBADF,
    fd_close: () => 0,
  };
}

function loadGlue(): GlueExports {
  if (glue) return glue;
  const module = new wasm.Module(fs.readFileSync(WASM_PATH));
  // The stubs need the instance's memory, which exists only once the instance does.
  const instance = new wasm.Instance(module, { wasi_snapshot_preview1: wasiStubs(() => exports.memory) });
  const exports = instance.exports as GlueExports;
  exports._initialize();
  glue = exports;
  return glue;
}

const textDecoder = new TextDecoder('utf-8');
const typeNames = new Map<number, string>();

function readCString(exports: GlueExports, pointer: number): string {
  const bytes = new Uint8Array(exports.memory.buffer);
  let end = pointer;
  while (bytes[end] !== 0) end++;
  return textDecoder.decode(bytes.subarray(pointer, end));
}

export interface Point {
  row: number;
  /** In UTF-8 bytes. */
  column: number;
}

/** A node of a parsed tree; valid (for toString) only inside the withParsedTree callback. */
export class SyntaxNode {
  readonly children: SyntaxNode[] = [];

  constructor(
    private readonly tree: ParsedTree,
    private readonly row: number,
    readonly type: string,
    private readonly flags: number,
    readonly startByte: number,
    readonly endByte: number,
    readonly startPosition: Point,
    readonly endPosition: Point,
    private readonly fieldChildren: readonly number[],
  ) {}

  get childCount(): number {
    return this.children.length;
  }

  get isNamed(): boolean {
    return (this.flags & NAMED) !== 0;
  }

  get isMissing(): boolean {
    return (this.flags & MISSING) !== 0;
  }

  /** The source text of the node (the UTF-8 bytes it spans, decoded). */
  get text(): string {
    return this.tree.text(this.startByte, this.endByte);
  }

  /** The child in `field` (py-tree-sitter's child_by_field_name), or null. */
  childForFieldName(field: FieldName): SyntaxNode | null {
    const position = this.fieldChildren[FIELDS.indexOf(field)]!;
    return position === NONE ? null : (this.children[position] ?? null);
  }

  /** The node's S-expression, as tree-sitter's ts_node_string (py-tree-sitter's str(node)). */
  toString(): string {
    return this.tree.sexp(this.row);
  }
}

class ParsedTree {
  readonly root: SyntaxNode;
  private deleted = false;

  constructor(
    private readonly exports: GlueExports,
    private readonly handle: number,
    private readonly source: Uint8Array,
  ) {
    const count = exports.feedloop_node_count(handle);
    const columns = exports.feedloop_column_count();
    // Copied out: the wasm memory can grow (and move) on the next allocation.
    const rows = new Uint32Array(exports.memory.buffer, exports.feedloop_rows(handle), count * columns).slice();
    const nodes: SyntaxNode[] = [];
    for (let row = 0; row < count; row++) {
      const c = rows.subarray(row * columns, (row + 1) * columns);
      const node = new SyntaxNode(
        this,
        row,
        this.typeName(c[0]!),
        c[3]!,
        c[4]!,
        c[5]!,
        { row: c[6]!, column: c[7]! },
        { row: c[8]!, column: c[9]! },
        Array.from(c.subarray(10)),
      );
      nodes.push(node);
      if (c[1] !== NONE) nodes[c[1]!]!.children.push(node);
    }
    this.root = nodes[0]!;
  }

  private typeName(pointer: number): string {
    let name = typeNames.get(pointer);
    if (name === undefined) {
      name = readCString(this.exports, pointer);
      typeNames.set(pointer, name);
    }
    return name;
  }

  text(start: number, end: number): string {
    return textDecoder.decode(this.source.subarray(start, end));
  }

  sexp(row: number): string {
    if (this.deleted) throw new Error('the syntax tree was already freed');
    const pointer = this.exports.feedloop_node_string(this.handle, row);
    try {
      return readCString(this.exports, pointer);
    } finally {
      this.exports.feedloop_free(pointer);
    }
  }

  delete(): void {
    if (!this.deleted) this.exports.feedloop_tree_delete(this.handle);
    this.deleted = true;
  }
}

function parse(language: TreeSitterLanguage, source: string): ParsedTree {
  const exports = loadGlue();
  const bytes = Buffer.from(source, 'utf8');
  const pointer = exports.feedloop_alloc(Math.max(1, bytes.length));
  try {
    new Uint8Array(exports.memory.buffer).set(bytes, pointer);
    const handle = exports.feedloop_parse(GRAMMAR_ID[language], pointer, bytes.length);
    if (handle === 0) throw new Error(`tree-sitter could not parse the ${language} source`);
    return new ParsedTree(exports, handle, bytes);
  } finally {
    exports.feedloop_free(pointer);
  }
}

/** Parses `source` and hands the root to `use`; the tree's WebAssembly memory is freed afterwards. */
export function withParsedTree<T>(language: TreeSitterLanguage, source: string, use: (root: SyntaxNode) => T): T {
  const tree = parse(language, source);
  try {
    return use(tree.root);
  } finally {
    tree.delete();
  }
}
