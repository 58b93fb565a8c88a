/** LuaJIT detection, offset extraction, VM registry and Lua frame naming (later issues). */
package io.moonwalk.luajit;
