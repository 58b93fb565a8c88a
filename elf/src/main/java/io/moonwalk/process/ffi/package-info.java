/** Hand-written FFM bindings for the libc calls the process package makes, one class per C header. */
package io.moonwalk.process.ffi;
