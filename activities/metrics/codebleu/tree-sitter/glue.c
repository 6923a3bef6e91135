/*
 * WebAssembly entry points for feedloop's tree-sitter build (see build.sh).
 *
 * Why a build of our own: the npm bindings (web-tree-sitter, node tree-sitter) always feed the
 * parser UTF-16, while the Python references (codebleu, Gorilla's AST evaluation) feed it UTF-8.
 * Tree-sitter's error recovery weighs skipped input by its size in bytes, so on code with syntax
 * errors the two encodings can recover differently and give different trees. This module parses
 * UTF-8 with the same tree-sitter core (0.22.3's, as vendored by the py-tree-sitter the
 * references run) and the same grammars, and hands the tree to JavaScript as a flat table.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_sitter/api.h"
/* Core internals, for the S-expression writer below. */
#include "language.h"
#include "subtree.h"
#include "tree.h"

const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_java(void);

#define EXPORT(name) __attribute__((export_name(#name)))

/* Fields the metrics look children up by, in the order of the table's field columns. */
static const char *const FIELDS[] = {"name", "value", "left", "right", "body"};
#define FIELD_COUNT (sizeof(FIELDS) / sizeof(FIELDS[0]))

/*
 * One row per node, in pre-order. uint32 columns:
 *   0 type name (pointer to a C string), 1 parent row (UINT32_MAX for the root),
 *   2 child count, 3 flags (1 named, 2 missing), 4 start byte, 5 end byte,
 *   6 start row, 7 start column (bytes), 8 end row, 9 end column (bytes),
 *   10.. for each of FIELDS, the child's position among this node's children (UINT32_MAX if none).
 */
#define FIXED_COLUMNS 10
#define COLUMNS (FIXED_COLUMNS + FIELD_COUNT)

typedef struct {
  TSTree *tree;
  uint32_t node_count;
  uint32_t *rows;
  TSNode *nodes;
} ParsedTree;

static TSParser *parsers[2];

EXPORT(feedloop_alloc) void *feedloop_alloc(uint32_t size) { return malloc(size); }

EXPORT(feedloop_free) void feedloop_free(void *pointer) { free(pointer); }

static uint32_t child_position(TSNode parent, TSNode child) {
  if (ts_node_is_null(child)) return UINT32_MAX;
  uint32_t count = ts_node_child_count(parent);
  for (uint32_t i = 0; i < count; i++) {
    if (ts_node_eq(ts_node_child(parent, i), child)) return i;
  }
  return UINT32_MAX;
}

/* Pre-order walk without recursion (deeply nested code would exhaust the stack): calls `visit`
 * with each node and its parent's row, rows being numbered in visiting order. */
typedef void (*Visitor)(ParsedTree *parsed, TSNode node, uint32_t row, uint32_t parent);

static uint32_t walk(TSTree *tree, ParsedTree *parsed, Visitor visit, uint32_t *parent_stack) {
  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree));
  uint32_t row = 0;
  uint32_t depth = 0;
  for (;;) {
    uint32_t parent = depth == 0 ? UINT32_MAX : parent_stack[depth - 1];
    if (visit) visit(parsed, ts_tree_cursor_current_node(&cursor), row, parent);
    if (parent_stack) parent_stack[depth] = row;
    row++;
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      depth++;
      continue;
    }
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return row;
      }
      depth--;
    }
  }
}

static void fill_row(ParsedTree *parsed, TSNode node, uint32_t row, uint32_t parent) {
  uint32_t *columns = parsed->rows + (size_t)row * COLUMNS;
  TSPoint start = ts_node_start_point(node);
  TSPoint end = ts_node_end_point(node);
  parsed->nodes[row] = node;
  columns[0] = (uint32_t)(uintptr_t)ts_node_type(node);
  columns[1] = parent;
  columns[2] = ts_node_child_count(node);
  columns[3] = (ts_node_is_named(node) ? 1u : 0u) | (ts_node_is_missing(node) ? 2u : 0u);
  columns[4] = ts_node_start_byte(node);
  columns[5] = ts_node_end_byte(node);
  columns[6] = start.row;
  columns[7] = start.column;
  columns[8] = end.row;
  columns[9] = end.column;
  for (uint32_t f = 0; f < FIELD_COUNT; f++) {
    TSNode child = ts_node_child_by_field_name(node, FIELDS[f], (uint32_t)strlen(FIELDS[f]));
    columns[FIXED_COLUMNS + f] = child_position(node, child);
  }
}

/* Parses `length` bytes of UTF-8 at `source` with grammar 0 (Python) or 1 (Java). */
EXPORT(feedloop_parse) ParsedTree *feedloop_parse(uint32_t grammar, const char *source, uint32_t length) {
  if (grammar > 1) return NULL;
  if (!parsers[grammar]) {
    parsers[grammar] = ts_parser_new();
    if (!ts_parser_set_language(parsers[grammar], grammar == 0 ? tree_sitter_python() : tree_sitter_java())) return NULL;
  }
  TSTree *tree = ts_parser_parse_string_encoding(parsers[grammar], NULL, source, length, TSInputEncodingUTF8);
  if (!tree) return NULL;
  ParsedTree *parsed = calloc(1, sizeof(ParsedTree));
  parsed->tree = tree;
  parsed->node_count = walk(tree, parsed, NULL, NULL);
  parsed->rows = malloc((size_t)parsed->node_count * COLUMNS * sizeof(uint32_t));
  parsed->nodes = malloc((size_t)parsed->node_count * sizeof(TSNode));
  /* A node's depth is below the node count, so that many parent slots always suffice. */
  uint32_t *parent_stack = malloc((size_t)parsed->node_count * sizeof(uint32_t));
  walk(tree, parsed, fill_row, parent_stack);
  free(parent_stack);
  return parsed;
}

EXPORT(feedloop_node_count) uint32_t feedloop_node_count(const ParsedTree *parsed) { return parsed->node_count; }

EXPORT(feedloop_rows) const uint32_t *feedloop_rows(const ParsedTree *parsed) { return parsed->rows; }

EXPORT(feedloop_column_count) uint32_t feedloop_column_count(void) { return COLUMNS; }

/* A growable string. */
typedef struct {
  char *text;
  size_t length;
  size_t capacity;
} Buffer;

static void append(Buffer *buffer, const char *text) {
  size_t extra = strlen(text);
  if (buffer->length + extra + 1 > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 256;
    while (buffer->length + extra + 1 > capacity) capacity *= 2;
    buffer->text = realloc(buffer->text, capacity);
    buffer->capacity = capacity;
  }
  memcpy(buffer->text + buffer->length, text, extra + 1);
  buffer->length += extra;
}

/* How ts_subtree__write_to_string prints the character an UNEXPECTED error leaf starts with. */
static void append_char(Buffer *buffer, int32_t chr) {
  char text[16];
  if (chr == -1) snprintf(text, sizeof text, "INVALID");
  else if (chr == '\0') snprintf(text, sizeof text, "'\\0'");
  else if (chr == '\n') snprintf(text, sizeof text, "'\\n'");
  else if (chr == '\t') snprintf(text, sizeof text, "'\\t'");
  else if (chr == '\r') snprintf(text, sizeof text, "'\\r'");
  else if (0 < chr && chr < 128 && isprint(chr)) snprintf(text, sizeof text, "'%c'", chr);
  else snprintf(text, sizeof text, "%d", chr);
  append(buffer, text);
}

static const char ROOT_FIELD[] = "__ROOT__";

/* One subtree being printed: its arguments as ts_subtree__write_to_string takes them, and how far
 * through its children the walk is. */
typedef struct {
  Subtree self;
  TSSymbol alias_symbol;
  bool alias_is_named;
  const char *field_name;
  bool is_visible;
  uint32_t child;
  uint32_t structural_child;
} Frame;

/* Opens a subtree: everything ts_subtree__write_to_string writes before the children. */
static void open_subtree(Buffer *out, const TSLanguage *language, Frame *frame) {
  Subtree self = frame->self;
  bool is_root = frame->field_name == ROOT_FIELD;
  frame->is_visible = ts_subtree_missing(self) ||
                      (frame->alias_symbol ? frame->alias_is_named : ts_subtree_visible(self) && ts_subtree_named(self));
  if (frame->is_visible) {
    if (!is_root) {
      append(out, " ");
      if (frame->field_name) {
        append(out, frame->field_name);
        append(out, ": ");
      }
    }
    if (ts_subtree_is_error(self) && ts_subtree_child_count(self) == 0 && self.ptr->size.bytes > 0) {
      append(out, "(UNEXPECTED ");
      append_char(out, self.ptr->lookahead_char);
    } else {
      TSSymbol symbol = frame->alias_symbol ? frame->alias_symbol : ts_subtree_symbol(self);
      const char *symbol_name = ts_language_symbol_name(language, symbol);
      if (ts_subtree_missing(self)) {
        append(out, "(MISSING ");
        if (frame->alias_is_named || ts_subtree_named(self)) {
          append(out, symbol_name);
        } else {
          append(out, "\"");
          append(out, symbol_name);
          append(out, "\"");
        }
      } else {
        append(out, "(");
        append(out, symbol_name);
      }
    }
  } else if (is_root) {
    TSSymbol symbol = frame->alias_symbol ? frame->alias_symbol : ts_subtree_symbol(self);
    const char *symbol_name = ts_language_symbol_name(language, symbol);
    append(out, ts_subtree_child_count(self) > 0 ? "(" : ts_subtree_named(self) ? "(" : "(\"");
    append(out, symbol_name);
    if (ts_subtree_child_count(self) == 0) append(out, ts_subtree_named(self) ? ")" : "\")");
  }
}

/* The arguments ts_subtree__write_to_string passes for `parent`'s next child. */
static Frame child_frame(const TSLanguage *language, const Frame *parent) {
  Subtree self = parent->self;
  Subtree child = ts_subtree_children(self)[parent->child];
  Frame frame = {child, 0, false, NULL, false, 0, 0};
  if (ts_subtree_extra(child)) return frame;
  const TSSymbol *alias_sequence = ts_language_alias_sequence(language, self.ptr->production_id);
  frame.alias_symbol = alias_sequence ? alias_sequence[parent->structural_child] : 0;
  frame.alias_is_named = frame.alias_symbol ? ts_language_symbol_metadata(language, frame.alias_symbol).named : false;
  frame.field_name = parent->is_visible ? NULL : parent->field_name;
  const TSFieldMapEntry *field_map, *field_map_end;
  ts_language_field_map(language, self.ptr->production_id, &field_map, &field_map_end);
  for (const TSFieldMapEntry *map = field_map; map < field_map_end; map++) {
    if (!map->inherited && map->child_index == parent->structural_child) {
      frame.field_name = language->field_names[map->field_id];
      break;
    }
  }
  return frame;
}

/*
 * The node's S-expression, exactly as ts_node_string writes it (py-tree-sitter's str(node)),
 * but with an explicit stack: the core's recursive writer overflows the JavaScript engine's
 * stack on deeply nested code. The caller frees the result with feedloop_free.
 */
EXPORT(feedloop_node_string) char *feedloop_node_string(const ParsedTree *parsed, uint32_t row) {
  TSNode node = parsed->nodes[row];
  const TSLanguage *language = node.tree->language;
  TSSymbol alias_symbol = (TSSymbol)node.context[3];
  Buffer out = {NULL, 0, 0};
  append(&out, "");

  size_t capacity = 64, depth = 0;
  Frame *stack = malloc(capacity * sizeof(Frame));
  stack[0] = (Frame){*(const Subtree *)node.id, alias_symbol, ts_language_symbol_metadata(language, alias_symbol).visible, ROOT_FIELD, false, 0, 0};
  open_subtree(&out, language, &stack[0]);
  for (;;) {
    Frame *top = &stack[depth];
    if (top->child < ts_subtree_child_count(top->self)) {
      Frame next = child_frame(language, top);
      if (!ts_subtree_extra(next.self)) top->structural_child++;
      top->child++;
      if (depth + 1 == capacity) {
        capacity *= 2;
        stack = realloc(stack, capacity * sizeof(Frame));
      }
      stack[++depth] = next;
      open_subtree(&out, language, &stack[depth]);
      continue;
    }
    if (top->is_visible) append(&out, ")");
    if (depth == 0) break;
    depth--;
  }
  free(stack);
  return out.text;
}

EXPORT(feedloop_tree_delete) void feedloop_tree_delete(ParsedTree *parsed) {
  ts_tree_delete(parsed->tree);
  free(parsed->rows);
  free(parsed->nodes);
  free(parsed);
}
