/**
 * moonwalk record: a one-off recording and its end-of-run summary.
 */
package io.moonwalk.agent.record;
