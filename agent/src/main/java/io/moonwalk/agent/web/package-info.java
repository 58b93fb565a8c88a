/**
 * The agent's HTTP endpoints: metrics, health, readiness and the local flame-graph web view.
 */
package io.moonwalk.agent.web;
