/**
 * Test-only: C fixtures compiled on demand and the external tools (gcc, readelf, objdump) tests compare against.
 */
package io.moonwalk.testfixtures;
