/**
 * Recognising LuaJIT in an ELF file by content and extracting its per-binary offsets
 * ({@link io.moonwalk.luajit.detect.LuajitDetector}), with the small x86-64 decoder the extraction
 * rests on ({@link io.moonwalk.luajit.detect.X86Decoder}). A binary is either found with every
 * offset confirmed, not LuaJIT, or refused with a reason — never guessed.
 */
package io.moonwalk.luajit.detect;
