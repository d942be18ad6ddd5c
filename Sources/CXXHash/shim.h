#ifndef CXXHASH_SHIM_H
#define CXXHASH_SHIM_H
/// Linked against the shared libxxhash (Debian's libxxhash-dev, 0.8.1), not
/// inlined with XXH_INLINE_ALL: one copy of the hash for every target, and the
/// same code the distribution ships and patches. XXH3-128 with a seed is in the
/// stable API since 0.8.0.
#include <xxhash.h>
#endif
