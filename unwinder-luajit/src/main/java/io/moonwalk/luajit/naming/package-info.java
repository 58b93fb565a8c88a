/**
 * Lua frame labels: names from the caller's bytecode as LuaJIT derives them, lines, chunk-name display,
 * built-in function names by fast-function id, and C functions through the native symbolizer.
 */
package io.moonwalk.luajit.naming;
