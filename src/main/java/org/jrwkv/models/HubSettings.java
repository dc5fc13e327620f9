package org.jrwkv.models;

import java.net.URI;
import java.util.Map;
import java.util.Objects;

/**
 * Where model files come from, like the Hugging Face tools: {@code HF_ENDPOINT} (a mirror's base
 * URL; default {@code https://huggingface.co}) and {@code HF_TOKEN} (sent as a bearer token, only to
 * that endpoint's host, never to the CDN it redirects to or to other hosts).
 *
 * @param endpoint the base URL
 * @param token    the access token, or null
 */
public record HubSettings(URI endpoint, String token) {

    /** {@code https://huggingface.co}. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    /** Checks the components. */
    public HubSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        if (endpoint.getScheme() == null || endpoint.getHost() == null
                || !(endpoint.getScheme().equals("https") || endpoint.getScheme().equals("http"))) {
            throw new IllegalArgumentException("HF_ENDPOINT must be an http(s) URL, not '" + endpoint + "'");
        }
        token = token == null || token.isBlank() ? null : token.strip();
    }

    /** Settings from the process environment ({@code HF_ENDPOINT}, {@code HF_TOKEN}). */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Settings from the given environment: {@code HF_ENDPOINT}, and {@code HF_TOKEN} (or the older
     * {@code HUGGING_FACE_HUB_TOKEN}).
     */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        String endpoint = env.get("HF_ENDPOINT");
        String token = env.get("HF_TOKEN");
        if (token == null || token.isBlank()) {
            token = env.get("HUGGING_FACE_HUB_TOKEN");
        }
        return new HubSettings(endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : URI.create(endpoint.strip()), token);
    }

    /** Whether a URL is on the endpoint's host (and so may receive the token). */
    public boolean isEndpointHost(URI url) {
        return url.getHost() != null && url.getHost().equalsIgnoreCase(endpoint.getHost())
                && url.getPort() == endpoint.getPort() && Objects.equals(url.getScheme(), endpoint.getScheme());
    }

    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "set") + "]";
    }
}
