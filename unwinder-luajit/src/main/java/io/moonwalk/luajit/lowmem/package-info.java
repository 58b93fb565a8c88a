/**
 * Address-space headroom of non-GC64 LuaJIT processes: how much of the low range their GC heap must live in is
 * still free, and who holds the rest.
 */
package io.moonwalk.luajit.lowmem;
