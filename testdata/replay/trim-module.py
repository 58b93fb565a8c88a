#!/usr/bin/env python3
"""Copies an ELF file with the contents of its large code and data sections zeroed (layout, headers, notes, unwind
and symbol sections kept byte for byte), so a stored module compresses to what replay reads of it: the build id,
program headers (mapping bias), .eh_frame(_hdr)/.debug_frame (unwind tables) and the symbol tables (names).
    trim-module.py IN OUT [--lua]
--lua (a LuaJIT binary) keeps the code the LuaJIT detector reads: the interpreter (64 KiB from lj_vm_asm_begin) and
lua_close's first 4 KiB; without a symbol table naming them, all of .text."""
import struct
import sys

ZERO = {".text", ".rodata", ".data", ".data.rel.ro", ".gcc_except_table", ".tdata", ".rela.dyn",
        ".debug_info", ".debug_line", ".debug_str", ".debug_loclists", ".debug_rnglists", ".debug_abbrev",
        ".debug_aranges", ".debug_line_str", ".debug_loc", ".debug_ranges"}


def main():
    src, dst = sys.argv[1], sys.argv[2]
    lua = "--lua" in sys.argv[3:]
    data = bytearray(open(src, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{src}: not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = secs[shstrndx][4]
    names = [data[stroff + s[0]:data.index(b"\0", stroff + s[0])].decode() for s in secs]
    keep = []  # (file offset, length) of .text kept
    if lua:
        syms = symbols(data, secs)
        text = secs[names.index(".text")]
        wanted = [("lj_vm_asm_begin", 65536), ("lua_close", 4096)]
        if all(n in syms for n, _ in wanted):
            keep = [(syms[n] - text[3] + text[4], length) for n, length in wanted]
        else:
            keep = [(text[4], text[5])]
    for (_name_off, typ, _flags, _addr, off, size, *_), name in zip(secs, names):
        if typ == 8 or name not in ZERO:  # 8: SHT_NOBITS
            continue
        saved = [(o, bytes(data[o:min(o + n, off + size)])) for o, n in keep if off <= o < off + size]
        data[off:off + size] = bytes(size)
        for o, b in saved:
            data[o:o + len(b)] = b
    open(dst, "wb").write(data)


def symbols(data, secs):
    """name -> value of the function symbols in .symtab and .dynsym."""
    out = {}
    for _n, typ, _f, _a, off, size, link, _i, _al, entsize in secs:
        if typ not in (2, 11) or entsize != 24:  # SHT_SYMTAB, SHT_DYNSYM
            continue
        stroff = secs[link][4]
        for i in range(size // 24):
            name_off, info, _o, shndx, value, _sz = struct.unpack_from("<IBBHQQ", data, off + 24 * i)
            if shndx == 0:
                continue
            name = data[stroff + name_off:data.index(b"\0", stroff + name_off)].decode(errors="replace")
            out.setdefault(name, value)
    return out


if __name__ == "__main__":
    main()
