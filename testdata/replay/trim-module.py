#!/usr/bin/env python3
"""Copies an ELF file with the contents of its large code and data sections zeroed (layout, headers, notes, unwind
and symbol sections kept byte for byte), so a stored module compresses to what replay reads of it: the build id,
program headers (mapping bias), .eh_frame(_hdr)/.debug_frame (unwind tables) and the symbol tables (names).
    trim-module.py IN OUT [--keep-text]
--keep-text keeps .text (a LuaJIT binary: the detector reads the interpreter's instructions)."""
import struct
import sys

ZERO = {".text", ".rodata", ".data", ".data.rel.ro", ".gcc_except_table", ".tdata", ".rela.dyn",
        ".debug_info", ".debug_line", ".debug_str", ".debug_loclists", ".debug_rnglists", ".debug_abbrev",
        ".debug_aranges", ".debug_line_str", ".debug_loc", ".debug_ranges"}


def main():
    src, dst = sys.argv[1], sys.argv[2]
    keep_text = "--keep-text" in sys.argv[3:]
    data = bytearray(open(src, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{src}: not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = secs[shstrndx][4]
    for name_off, typ, _flags, _addr, off, size, *_ in secs:
        end = data.index(b"\0", stroff + name_off)
        name = data[stroff + name_off:end].decode()
        if typ == 8 or name not in ZERO or (keep_text and name == ".text"):  # 8: SHT_NOBITS
            continue
        data[off:off + size] = bytes(size)
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main()
