package org.jrwkv.cli;

import java.util.Locale;

/** Number formatting shared by the commands. */
final class Format {

    private Format() {
    }

    /** 1234567 → "1,234,567". */
    static String thousands(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A byte count in B, KiB, MiB or GiB. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A duration in nanoseconds as milliseconds with 3 decimals. */
    static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
    }
}
