package io.moonwalk.agent.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resource attributes the agent can vouch for on every process of its node, from its own
 * downward-API environment: {@code k8s.node.name} from {@code K8S_NODE_NAME} (or {@code NODE_NAME}),
 * and {@code k8s.cluster.name} from {@code K8S_CLUSTER_NAME}. The pod, namespace and container of a
 * profiled process are not in the agent's environment (they describe the agent's own pod): processes
 * carry {@code container.id} instead, which the collector's {@code k8sattributes} processor turns into
 * {@code k8s.pod.name}, {@code k8s.namespace.name} and {@code k8s.container.name}.
 */
public final class KubernetesAttributes {
    private KubernetesAttributes() {
    }

    public static Map<String, String> from(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        String node = first(env, "K8S_NODE_NAME", "NODE_NAME");
        if (node != null) {
            out.put("k8s.node.name", node);
        }
        String cluster = first(env, "K8S_CLUSTER_NAME");
        if (cluster != null) {
            out.put("k8s.cluster.name", cluster);
        }
        return out;
    }

    private static String first(Map<String, String> env, String... names) {
        for (String n : names) {
            String v = env.get(n);
            if (v != null && !v.isBlank()) {
                return v.trim();
            }
        }
        return null;
    }
}
