/** Demangling of C++ (Itanium ABI) and Rust symbol names for display; {@link io.moonwalk.symbolizer.demangle.Demangler} is the entry point. */
package io.moonwalk.symbolizer.demangle;
