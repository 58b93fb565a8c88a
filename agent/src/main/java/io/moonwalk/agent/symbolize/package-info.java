/**
 * Window-end naming of raw stacks: native, kernel and interpreter frames, error reasons.
 */
package io.moonwalk.agent.symbolize;
