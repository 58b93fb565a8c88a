/** A LuaJIT VM's garbage-collected heap as its {@code global_State} describes it, read out of process. */
package io.moonwalk.luajit.gc;
