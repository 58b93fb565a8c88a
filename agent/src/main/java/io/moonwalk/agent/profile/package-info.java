/**
 * The symbolized profile model: frames, process identities, profiles handed to writers and exporters.
 */
package io.moonwalk.agent.profile;
