/**
 * What the LuaJIT walker needs in the kernel maps: per-binary interpreter values, mcode-area routes per VM, VM labels.
 */
package io.moonwalk.luajit.sync;
