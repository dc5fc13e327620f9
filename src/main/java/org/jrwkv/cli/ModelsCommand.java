package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import org.jrwkv.DataType;
import org.jrwkv.models.ModelCatalog;
import org.jrwkv.models.ModelEntry;
import org.jrwkv.models.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jrwkv models}: the catalog, and what of it is in the cache. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the known models (name, architecture, size, download) and the files already in the cache.")
final class ModelsCommand implements Callable<Integer> {

    @Mixin
    ModelChoice choice;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ModelCatalog catalog = choice.catalog();
        ModelStore store = choice.store();
        PrintWriter w = spec.commandLine().getOut();
        w.printf("%-18s %-5s %-6s %-6s %-9s %-7s %s%n", "NAME", "ARCH", "DATA", "SIZE", "DOWNLOAD", "SHA256", "CACHED");
        for (ModelEntry m : catalog.models()) {
            StringBuilder cached = new StringBuilder();
            for (DataType t : DataType.values()) {
                if (Files.isRegularFile(store.modelFile(m, t))) {
                    cached.append(cached.length() > 0 ? "," : "").append(t);
                }
            }
            w.printf("%-18s %-5s %-6s %-6s %-9s %-7s %s%n", m.name(), m.architecture().version(), m.family(),
                    m.parameters(), m.approxSize(), m.sha256() != null ? "known" : "-", cached.length() > 0 ? cached : "-");
        }
        w.printf("cache: %s%n", store.home());
        w.flush();
        return 0;
    }
}
