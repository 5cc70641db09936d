/* Renders a BTF type as C-like text: definitions for struct/union/enum/typedef/func/var/datasec,
 * declarators (pointers, arrays, function pointers, qualifiers) built inside out. Nesting
 * (anonymous structs, function-pointer parameters) is bounded, so malformed BTF cannot recurse
 * without end: past the bound the text says so. */
#include <stdlib.h>
#include <string.h>

#include "btf.h"

#define MAX_NESTING 64
/* Types may be shared where C would repeat them (an anonymous struct used twice, nested): the
 * text can grow exponentially with nesting, so rendering one type stops after this many steps. */
#define MAX_STEPS 20000
/* Steps alone do not bound bytes (one long name repeated 20000 times is 20000 steps): every byte
 * appended while rendering one type, intermediate declarators included, counts against this, and
 * every byte of text kept for one BTF against the second. Past either, rendering is an error
 * naming the limit (EBPF_ERR_LIMIT). */
#define MAX_TYPE_BYTES (1u << 20)
#define MAX_BTF_BYTES (64u << 20)

/* What one rendering may still append, shared by all its strings. */
typedef struct {
  uint32_t left;
  int hit;
} budget;

/* A growable string in malloc'd memory (intermediate declarators are freed at once). */
typedef struct {
  char *p;
  uint32_t len, cap;
  int oom;
  budget *budget;
} sb;

/* A new empty string drawing on the same budget as s. */
static sb sb_like(const sb *s) {
  sb fresh = {0};
  fresh.budget = s->budget;
  return fresh;
}

/* Grows s to hold at least `need` bytes; capacities double in 64-bit arithmetic, so they never wrap
 * (need is below MAX_TYPE_BYTES + 1 once the budget has been charged). */
static int reserve(sb *s, uint32_t need) {
  if (need <= s->cap) return 1;
  uint64_t cap = s->cap ? s->cap : 64;
  while (cap < need) cap *= 2;
  if (cap > UINT32_MAX) cap = need;
  char *grown = realloc(s->p, (size_t)cap);
  if (!grown) {
    s->oom = 1;
    return 0;
  }
  s->p = grown;
  s->cap = (uint32_t)cap;
  return 1;
}

static void put(sb *s, const char *str, uint32_t n) {
  if (s->oom || n == 0) return;
  if (s->budget) {
    if (s->budget->hit || n > s->budget->left) {
      s->budget->hit = 1;
      return;
    }
    s->budget->left -= n;
  }
  if (!reserve(s, s->len + n + 1)) return;
  memcpy(s->p + s->len, str, n);
  s->len += n;
  s->p[s->len] = 0;
}

static void puts_(sb *s, const char *str) { put(s, str, (uint32_t)strlen(str)); }
static void put_str(sb *s, ebpf_str str) { put(s, str.ptr, str.len); }

static void put_uint(sb *s, uint64_t v) {
  char d[24];
  int n = 0;
  do d[n++] = (char)('0' + v % 10); while ((v /= 10));
  while (n) put(s, &d[--n], 1);
}

static void put_int(sb *s, int64_t v) {
  if (v < 0) {
    puts_(s, "-");
    put_uint(s, (uint64_t)0 - (uint64_t)v);
  } else {
    put_uint(s, (uint64_t)v);
  }
}

static void put_indent(sb *s, int indent) {
  for (int i = 0; i < indent; i++) puts_(s, "\t");
}

typedef struct {
  const btf *b;
  uint32_t steps;
  int over; /* MAX_STEPS reached: the text says so once, and every loop stops */
} renderer;

static void decl(renderer *r, sb *out, uint32_t id, const char *inner, uint32_t inner_len, int indent, int depth);

static const char *compound_word(uint32_t kind) {
  return kind == EBPF_BTF_UNION ? "union" : kind == EBPF_BTF_STRUCT ? "struct" : "enum";
}

/* Bit width of a bitfield member, 0 for an ordinary member. */
static uint32_t bitfield_bits(const btf *b, const ebpf_btf_type *owner, const ebpf_btf_member *m) {
  if (owner->kind_flag) return m->bitfield_size;
  const ebpf_btf_type *t = btf_type_by_id(b, btf_skip_mods_typedefs(b, m->type));
  if (t && t->kind == EBPF_BTF_INT && (t->extra & 0xff) != t->size * 8) return t->extra & 0xff;
  return 0;
}

/* The "{ ... }" of a struct, union or enum, members at indent + 1. */
static void body(renderer *r, sb *out, const ebpf_btf_type *t, int indent, int depth) {
  const ebpf_btf_member *m = btf_members(r->b, t);
  puts_(out, "{\n");
  for (uint32_t i = 0; i < t->vlen && !r->over; i++) {
    put_indent(out, indent + 1);
    if (t->kind == EBPF_BTF_ENUM || t->kind == EBPF_BTF_ENUM64) {
      put_str(out, m[i].name);
      puts_(out, " = ");
      if (t->kind_flag) put_int(out, (int64_t)m[i].value);
      else put_uint(out, t->kind == EBPF_BTF_ENUM ? (uint32_t)m[i].value : m[i].value);
      puts_(out, ",\n");
      continue;
    }
    decl(r, out, m[i].type, m[i].name.ptr, m[i].name.len, indent + 1, depth + 1);
    uint32_t bits = bitfield_bits(r->b, t, &m[i]);
    if (bits) {
      puts_(out, ": ");
      put_uint(out, bits);
    }
    puts_(out, ";\n");
  }
  put_indent(out, indent);
  puts_(out, "}");
}

static void finish(sb *out, const char *inner, uint32_t inner_len) {
  if (inner_len) {
    if (inner[0] != '[') puts_(out, " ");
    put(out, inner, inner_len);
  }
}

/* The rest of a declarator whose kind wraps `inner` (pointer, array, function prototype, qualifier,
 * func/var name) into next; the caller then declares t->type with next as its inner declarator.
 * Qualifiers of the pointee go straight to out ("const int x"). */
static void wrap_pointer(renderer *r, sb *next, const ebpf_btf_type *t, const char *inner, uint32_t inner_len) {
  const ebpf_btf_type *target = btf_type_by_id(r->b, t->type);
  int paren = target && (target->kind == EBPF_BTF_ARRAY || target->kind == EBPF_BTF_FUNC_PROTO);
  puts_(next, paren ? "(*" : "*");
  put(next, inner, inner_len);
  if (paren) puts_(next, ")");
}

static void wrap_array(sb *next, const ebpf_btf_type *t, const char *inner, uint32_t inner_len) {
  put(next, inner, inner_len);
  puts_(next, "[");
  if (t->nelems) put_uint(next, t->nelems);
  puts_(next, "]");
}

static void wrap_func_proto(renderer *r, sb *next, const ebpf_btf_type *t, const char *inner, uint32_t inner_len, int indent, int depth) {
  put(next, inner, inner_len);
  puts_(next, "(");
  const ebpf_btf_member *p = btf_members(r->b, t);
  for (uint32_t i = 0; i < t->vlen && !r->over; i++) {
    if (i) puts_(next, ", ");
    if (p[i].type == 0 && i == t->vlen - 1) puts_(next, "...");
    else decl(r, next, p[i].type, p[i].name.ptr, p[i].name.len, indent, depth + 1);
  }
  if (t->vlen == 0) puts_(next, "void");
  puts_(next, ")");
}

static void wrap_qualifier(renderer *r, sb *out, sb *next, const ebpf_btf_type *t, const char *inner, uint32_t inner_len) {
  sb q = sb_like(out);
  if (t->kind == EBPF_BTF_TYPE_TAG) {
    puts_(&q, "__attribute__((btf_type_tag(\"");
    put_str(&q, t->name);
    puts_(&q, "\")))");
  } else {
    puts_(&q, t->kind == EBPF_BTF_CONST ? "const" : t->kind == EBPF_BTF_VOLATILE ? "volatile" : "restrict");
  }
  const ebpf_btf_type *target = btf_type_by_id(r->b, t->type);
  if (target && target->kind == EBPF_BTF_PTR) { /* qualifies the pointer: "*const p" */
    put(next, q.p, q.len);
    if (inner_len) puts_(next, " ");
    put(next, inner, inner_len);
  } else { /* qualifies the pointee: "const int x" */
    put(out, q.p, q.len);
    puts_(out, " ");
    put(next, inner, inner_len);
  }
  if (q.oom) out->oom = 1;
  free(q.p);
}

/* Kinds that end a declarator: written to out, then `inner`. Returns 0 for the wrapping kinds. */
static int decl_leaf(renderer *r, sb *out, const ebpf_btf_type *t, const char *inner, uint32_t inner_len, int indent, int depth) {
  switch (t->kind) {
    case EBPF_BTF_VOID:
      puts_(out, "void");
      break;
    case EBPF_BTF_INT: case EBPF_BTF_FLOAT: case EBPF_BTF_TYPEDEF:
      put_str(out, t->name);
      break;
    case EBPF_BTF_FWD:
      puts_(out, t->kind_flag ? "union " : "struct ");
      put_str(out, t->name);
      break;
    case EBPF_BTF_STRUCT: case EBPF_BTF_UNION: case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64:
      puts_(out, compound_word(t->kind));
      puts_(out, " ");
      if (t->name.len) put_str(out, t->name);
      else body(r, out, t, indent, depth);
      break;
    case EBPF_BTF_PTR: case EBPF_BTF_ARRAY: case EBPF_BTF_FUNC_PROTO: case EBPF_BTF_CONST: case EBPF_BTF_VOLATILE:
    case EBPF_BTF_RESTRICT: case EBPF_BTF_TYPE_TAG: case EBPF_BTF_FUNC: case EBPF_BTF_VAR:
      return 0;
    default: /* datasec, decl_tag: not part of a declarator */
      puts_(out, "/* ");
      puts_(out, btf_kind_name(t->kind));
      puts_(out, " */");
      break;
  }
  finish(out, inner, inner_len);
  return 1;
}

/* Appends the declaration of `inner` (a declarator: "x", "*p", "a[4]", "" ...) of type id. */
static void decl(renderer *r, sb *out, uint32_t id, const char *inner, uint32_t inner_len, int indent, int depth) {
  if (r->over) return;
  if (++r->steps > MAX_STEPS) {
    r->over = 1;
    puts_(out, "/* too large to render */");
    return;
  }
  const ebpf_btf_type *t = btf_type_by_id(r->b, id);
  if (!t || depth > MAX_NESTING) {
    puts_(out, t ? "/* nested too deep */" : "/* bad type */");
    finish(out, inner, inner_len);
    return;
  }
  if (decl_leaf(r, out, t, inner, inner_len, indent, depth)) return;
  sb next = sb_like(out);
  switch (t->kind) {
    case EBPF_BTF_PTR: wrap_pointer(r, &next, t, inner, inner_len); break;
    case EBPF_BTF_ARRAY: wrap_array(&next, t, inner, inner_len); break;
    case EBPF_BTF_FUNC_PROTO: wrap_func_proto(r, &next, t, inner, inner_len, indent, depth); break;
    case EBPF_BTF_FUNC: case EBPF_BTF_VAR: put_str(&next, t->name); break;
    default: wrap_qualifier(r, out, &next, t, inner, inner_len); break;
  }
  if (next.oom) out->oom = 1;
  decl(r, out, t->type, next.p ? next.p : "", next.len, indent, depth + 1);
  free(next.p);
}

/* FUNC and VAR linkage: 0 static, 1 global, 2 extern. */
static void linkage(sb *out, uint32_t value) {
  if (value == 0) puts_(out, "static ");
  else if (value == 2) puts_(out, "extern ");
}

static void definition_datasec(renderer *r, sb *out, const ebpf_btf_type *t) {
  puts_(out, "/* section \"");
  put_str(out, t->name);
  puts_(out, "\", ");
  put_uint(out, t->size);
  puts_(out, " bytes */");
  const ebpf_btf_member *v = btf_members(r->b, t);
  for (uint32_t i = 0; i < t->vlen; i++) {
    const ebpf_btf_type *var = btf_type_by_id(r->b, v[i].type);
    puts_(out, "\n");
    if (var->kind == EBPF_BTF_VAR || var->kind == EBPF_BTF_FUNC) linkage(out, var->extra);
    decl(r, out, var->type, var->name.ptr, var->name.len, 0, 0);
    puts_(out, "; /* offset ");
    put_uint(out, v[i].offset);
    puts_(out, ", ");
    put_uint(out, v[i].bitfield_size);
    puts_(out, " bytes */");
  }
}

static void definition_decl_tag(renderer *r, sb *out, const ebpf_btf_type *t) {
  const ebpf_btf_type *target = btf_type_by_id(r->b, t->type);
  puts_(out, "__attribute__((btf_decl_tag(\"");
  put_str(out, t->name);
  puts_(out, "\"))) /* on [");
  put_uint(out, t->type);
  puts_(out, "] ");
  puts_(out, btf_kind_name(target->kind));
  puts_(out, " ");
  put_str(out, target->name);
  if ((int32_t)t->extra >= 0) {
    puts_(out, target->kind == EBPF_BTF_FUNC ? ", parameter " : ", member ");
    put_uint(out, t->extra);
  }
  puts_(out, " */");
}

static void definition(renderer *r, sb *out, uint32_t id) {
  const ebpf_btf_type *t = btf_type_by_id(r->b, id);
  switch (t->kind) {
    case EBPF_BTF_STRUCT: case EBPF_BTF_UNION: case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64:
      puts_(out, compound_word(t->kind));
      puts_(out, " ");
      if (t->name.len) {
        put_str(out, t->name);
        puts_(out, " ");
      }
      body(r, out, t, 0, 0);
      puts_(out, ";");
      return;
    case EBPF_BTF_FWD:
      puts_(out, t->kind_flag ? "union " : "struct ");
      put_str(out, t->name);
      puts_(out, ";");
      return;
    case EBPF_BTF_TYPEDEF: case EBPF_BTF_FUNC: case EBPF_BTF_VAR:
      if (t->kind == EBPF_BTF_TYPEDEF) puts_(out, "typedef ");
      else linkage(out, t->extra);
      decl(r, out, t->type, t->name.ptr, t->name.len, 0, 0);
      puts_(out, ";");
      return;
    case EBPF_BTF_DATASEC:
      definition_datasec(r, out, t);
      return;
    case EBPF_BTF_DECL_TAG:
      definition_decl_tag(r, out, t);
      return;
    default:
      decl(r, out, id, "", 0, 0, 0);
      return;
  }
}

int btf_render(btf *b, uint32_t id, ebpf_str *out) {
  if (id >= b->info.type_count)
    return err_set(b->err, EBPF_ERR_ARG, "BTF: type [%u] does not exist (the last id is %u)", id, b->info.type_count - 1);
  uint32_t total_left = MAX_BTF_BYTES - b->rendered_bytes;
  budget left = {total_left < MAX_TYPE_BYTES ? total_left : MAX_TYPE_BYTES, 0};
  renderer r = {b, 0, 0};
  sb text = {0};
  text.budget = &left;
  definition(&r, &text, id);
  if (left.hit) {
    free(text.p);
    if (total_left < MAX_TYPE_BYTES)
      return err_set(b->err, EBPF_ERR_LIMIT, "BTF: rendering type [%u] as C passes the limit of %u MiB of C for one BTF's types", id, MAX_BTF_BYTES >> 20);
    return err_set(b->err, EBPF_ERR_LIMIT, "BTF: type [%u] renders to more than the limit of %u bytes of C for one type", id, MAX_TYPE_BYTES);
  }
  char *copy = text.oom ? NULL : arena_alloc(b->mem, (uint64_t)text.len + 1);
  if (copy && text.len) memcpy(copy, text.p, text.len);
  free(text.p);
  if (!copy) return err_set(b->err, EBPF_ERR_NOMEM, "BTF: out of memory rendering type [%u]", id);
  b->rendered_bytes += text.len;
  out->ptr = copy;
  out->len = text.len;
  return 0;
}
