/**
 * Struct offsets of one LuaJIT build, and the known layouts used only to cross-check the offsets extracted from each binary.
 */
package io.moonwalk.luajit.layout;
