// wxs: the rule for names and link targets shared by both bindings (fuse-native.c, fuse-ll.c).
#ifndef WXS_NAMES_H
#define WXS_NAMES_H

#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <uchar.h>

// wxs: paths and names are bytes. JavaScript holds them as strings in which
// valid UTF-8 decodes as usual and each byte outside valid UTF-8 is the lone
// surrogate U+DC80+byte (core/lib/raw-names.ts has the same rule), so names
// that are not UTF-8 round-trip byte for byte.

// Length of the strict UTF-8 sequence at s (no overlongs, no surrogates), or 0.
static inline size_t wxs_utf8_seq (const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;
    if (c == 0xED && s[1] > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;
    if (c == 0xF4 && s[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

// A JavaScript string for the bytes at str (NUL-terminated; NULL reads as "").
static inline napi_status wxs_create_name (napi_env env, const char *str, napi_value *out) {
  if (str == NULL) str = "";
  const unsigned char *s = (const unsigned char *) str;
  size_t n = strlen(str);
  size_t i = 0;
  while (i < n && s[i] < 0x80) i++;
  if (i == n) return napi_create_string_latin1(env, str, n, out);
  size_t j = i;
  while (j < n) {
    size_t k = wxs_utf8_seq(s + j, n - j);
    if (k == 0) break;
    j += k;
  }
  if (j == n) return napi_create_string_utf8(env, str, n, out);
  // each byte gives at most one UTF-16 unit (a 4-byte sequence gives two)
  char16_t *u = malloc((n + 1) * sizeof(char16_t));
  if (u == NULL) return napi_generic_failure;
  size_t m = 0;
  for (j = 0; j < n;) {
    size_t k = wxs_utf8_seq(s + j, n - j);
    uint32_t cp;
    if (k == 0) { u[m++] = 0xDC00 + s[j]; j++; continue; }
    if (k == 1) cp = s[j];
    else if (k == 2) cp = ((s[j] & 0x1F) << 6) | (s[j + 1] & 0x3F);
    else if (k == 3) cp = ((s[j] & 0x0F) << 12) | ((s[j + 1] & 0x3F) << 6) | (s[j + 2] & 0x3F);
    else cp = ((s[j] & 0x07) << 18) | ((s[j + 1] & 0x3F) << 12) | ((s[j + 2] & 0x3F) << 6) | (s[j + 3] & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u[m++] = 0xD800 + (cp >> 10);
      u[m++] = 0xDC00 + (cp & 0x3FF);
    } else {
      u[m++] = cp;
    }
    j += k;
  }
  napi_status st = napi_create_string_utf16(env, u, m, out);
  free(u);
  return st;
}

// The bytes a JavaScript string stands for, NUL-terminated, into out (cap
// bytes with the NUL); cut short at a whole character when it does not fit.
static inline size_t wxs_get_name (napi_env env, napi_value v, char *out, size_t cap) {
  size_t len = 0;
  if (cap == 0) return 0;
  out[0] = 0;
  if (napi_get_value_string_utf16(env, v, NULL, 0, &len) != napi_ok) return 0;
  char16_t local[512];
  char16_t *u = len < 512 ? local : malloc((len + 1) * sizeof(char16_t));
  if (u == NULL) return 0;
  napi_get_value_string_utf16(env, v, u, len + 1, &len);
  size_t m = 0;
  for (size_t i = 0; i < len; i++) {
    uint32_t c = u[i];
    unsigned char b[4];
    size_t k;
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
      i++;
    } else if (c >= 0xDC80 && c <= 0xDCFF) {
      if (m + 1 >= cap) break;
      out[m++] = (char) (c - 0xDC00);
      continue;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;
    }
    if (c < 0x80) { b[0] = c; k = 1; }
    else if (c < 0x800) { b[0] = 0xC0 | (c >> 6); b[1] = 0x80 | (c & 0x3F); k = 2; }
    else if (c < 0x10000) { b[0] = 0xE0 | (c >> 12); b[1] = 0x80 | ((c >> 6) & 0x3F); b[2] = 0x80 | (c & 0x3F); k = 3; }
    else { b[0] = 0xF0 | (c >> 18); b[1] = 0x80 | ((c >> 12) & 0x3F); b[2] = 0x80 | ((c >> 6) & 0x3F); b[3] = 0x80 | (c & 0x3F); k = 4; }
    if (m + k >= cap) break;
    memcpy(out + m, b, k);
    m += k;
  }
  out[m] = 0;
  if (u != local) free(u);
  return m;
}

#endif
