#!/usr/bin/env bash
# Builds newlib's libc from Debian's newlib-source for keel: x86_64-elf with
# the host gcc, freestanding, no red zone, no PIC, no auto-vectorization (keel
# must not touch SSE state). Usage: build-newlib.sh PREFIX
# The result is PREFIX/x86_64-elf/{include,lib/libc.a}; a finished build is
# kept and not redone.
set -euo pipefail

prefix=$(realpath -m "$1")
stamp="$prefix/.built"
[ -f "$stamp" ] && exit 0

tarball=$(ls /usr/src/newlib/newlib-*.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "newlib: no source tarball in /usr/src/newlib (package newlib-source)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "newlib: building $(basename "$tarball") (about a minute)"
tar -xf "$tarball" -C "$work"
src=$(find "$work" -mindepth 2 -maxdepth 2 -name configure -path '*/configure' -printf '%h\n' | head -n 1)
mkdir -p "$work/build"
cd "$work/build"
"$src/configure" --target=x86_64-elf --prefix="$prefix" \
	--disable-multilib --disable-libgloss \
	--disable-newlib-supplied-syscalls --disable-newlib-io-float \
	--disable-newlib-multithread --enable-newlib-nano-malloc \
	CC_FOR_TARGET=gcc AR_FOR_TARGET=ar AS_FOR_TARGET=as LD_FOR_TARGET=ld \
	RANLIB_FOR_TARGET=ranlib NM_FOR_TARGET=nm OBJDUMP_FOR_TARGET=objdump \
	CFLAGS_FOR_TARGET="-O2 -g -ffreestanding -mno-red-zone -fno-pic -fno-pie -fno-tree-vectorize -fno-stack-protector" \
	>"$work/configure.log" 2>&1 || { tail -n 30 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" all-target-newlib >"$work/make.log" 2>&1 || { grep -m 20 -i error "$work/make.log" >&2; exit 1; }
make install-target-newlib >"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; exit 1; }
touch "$stamp"
echo "newlib: installed in $prefix"
