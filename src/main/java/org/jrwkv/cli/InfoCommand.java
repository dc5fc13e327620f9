package org.jrwkv.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jrwkv.DataType;
import org.jrwkv.ModelOptions;
import org.jrwkv.RwkvModel;
import org.jrwkv.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jrwkv info MODEL}: what a model file holds. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model file's header, architecture, dimensions and tensors.")
final class InfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "an rwkv.cpp model file (.bin)")
    Path model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (RwkvModel m = RwkvModel.load(model, ModelOptions.defaults().withThreads(1))) {
            out.printf("file          %s%n", m.path());
            out.printf("file version  %d%n", m.fileVersion());
            out.printf("data type     %s (header code %d)%n", m.dataType(), m.dataType().code());
            out.printf("architecture  RWKV v%s%n", m.architecture().version());
            out.printf("n_vocab       %d%n", m.vocabSize());
            out.printf("n_embed       %d%n", m.embeddingSize());
            out.printf("n_layer       %d%n", m.layerCount());
            if (m.headCount() > 0) {
                out.printf("heads         %d x %d (count x size)%n", m.headCount(), m.headSize());
            } else {
                out.printf("heads         - (v4 has none)%n");
            }
            out.printf("state length  %d floats (%s)%n", m.stateLength(), Format.bytes(4L * m.stateLength()));
            out.printf("tensors       %d%n%n", m.tensors().size());

            int nameWidth = Math.max(4, m.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(4));
            String row = "%-" + nameWidth + "s  %-4s  %-16s  %12s%s%n";
            out.printf(row, "name", "type", "dims", "bytes", "");
            Map<DataType, long[]> totals = new EnumMap<>(DataType.class);
            for (TensorInfo t : m.tensors()) {
                String dims = t.dims().stream().map(String::valueOf).collect(Collectors.joining(" x "));
                out.printf(row, t.name(), t.type(), dims, Format.thousands(t.bytes()), t.used() ? "" : "  (unused)");
                long[] total = totals.computeIfAbsent(t.type(), k -> new long[2]);
                total[0]++;
                total[1] += t.bytes();
            }
            out.printf("%ntotals per type%n");
            long all = 0;
            for (Map.Entry<DataType, long[]> e : totals.entrySet()) {
                out.printf("  %-4s  %5d tensors  %14s bytes%n", e.getKey(), e.getValue()[0],
                        Format.thousands(e.getValue()[1]));
                all += e.getValue()[1];
            }
            out.printf("  all   %5d tensors  %14s bytes%n", m.tensors().size(), Format.thousands(all));
        }
        out.flush();
        return 0;
    }
}
