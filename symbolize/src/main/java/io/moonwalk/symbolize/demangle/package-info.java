/** Demangling of C++ (Itanium ABI) and Rust symbol names for display; {@link io.moonwalk.symbolize.demangle.Demangler} is the entry point. */
package io.moonwalk.symbolize.demangle;
