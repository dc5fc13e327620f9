package org.jrwkv.models;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny file server on 127.0.0.1 for download tests: serves byte arrays by path with Range
 * support, can drop the connection in the middle of a file, redirect, or refuse with a status.
 * Records every request (path, Range and Authorization headers).
 */
public final class LocalHub implements AutoCloseable {

    /** One request seen by the server. */
    public record Request(String path, String range, String authorization) {
    }

    private final HttpServer server;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, Integer> statuses = new ConcurrentHashMap<>();
    private final Map<String, String> redirects = new ConcurrentHashMap<>();
    private final Map<String, Integer> dropAfter = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /** Starts a server on an ephemeral port of 127.0.0.1. */
    public LocalHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:PORT}. */
    public URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Serves {@code bytes} at {@code path}. */
    public LocalHub file(String path, byte[] bytes) {
        files.put(path, bytes);
        return this;
    }

    /** Answers {@code path} with a bare status. */
    public LocalHub status(String path, int status) {
        statuses.put(path, status);
        return this;
    }

    /** Redirects {@code path} (302) to {@code location}. */
    public LocalHub redirect(String path, String location) {
        redirects.put(path, location);
        return this;
    }

    /** The next response for {@code path} sends only {@code bytes} bytes of the body, then closes the connection. */
    public LocalHub dropOnceAfter(String path, int bytes) {
        dropAfter.put(path, bytes);
        return this;
    }

    /** Every request so far. */
    public List<Request> requests() {
        return requests;
    }

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add(new Request(path, range, ex.getRequestHeaders().getFirst("Authorization")));
        try {
            if (statuses.containsKey(path)) {
                ex.sendResponseHeaders(statuses.get(path), -1);
                return;
            }
            if (redirects.containsKey(path)) {
                ex.getResponseHeaders().add("Location", redirects.get(path));
                ex.sendResponseHeaders(302, -1);
                return;
            }
            byte[] data = files.get(path);
            if (data == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            int from = 0;
            if (range != null) {
                Matcher m = RANGE.matcher(range);
                if (m.matches()) {
                    from = Integer.parseInt(m.group(1));
                }
                if (from >= data.length) {
                    ex.getResponseHeaders().add("Content-Range", "bytes */" + data.length);
                    ex.sendResponseHeaders(416, -1);
                    return;
                }
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
                ex.sendResponseHeaders(206, data.length - from);
            } else {
                ex.sendResponseHeaders(200, data.length);
            }
            Integer drop = dropAfter.remove(path);
            OutputStream out = ex.getResponseBody();
            if (drop != null) {
                out.write(data, from, Math.min(drop, data.length - from));
                out.flush();
                // Closing the exchange before Content-Length bytes were written cuts the connection.
                return;
            }
            out.write(data, from, data.length - from);
        } finally {
            ex.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
