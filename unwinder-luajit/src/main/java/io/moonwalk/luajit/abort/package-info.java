/**
 * Trace aborts of a LuaJIT VM, read out of process from its hot-penalty cache ({@code J->penalty[]}): which
 * bytecode (site) failed to compile, how often, and why (the abort reason as LuaJIT spells it).
 */
package io.moonwalk.luajit.abort;
