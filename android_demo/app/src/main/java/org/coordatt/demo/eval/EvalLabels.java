package org.coordatt.demo.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * eval_labels.csv, pushed by coordatt-bench --eval-dir beside the images: UTF-8, header
 * {@code file,class,eager_top1}; file relative to the eval folder, class a NAME as in the
 * sidecars' labels, eager_top1 the host's eager fp32 top-1 class index for that image or empty.
 * Fields may be quoted as Python's csv module writes them (ImageNet names hold commas).
 */
public final class EvalLabels {

    public static final String FILE_NAME = "eval_labels.csv";
    static final List<String> HEADER = java.util.Arrays.asList("file", "class", "eager_top1");

    /** One labelled image. */
    public static final class Entry {
        public final String file;
        public final String className;
        /** Host eager fp32 top-1 index, or -1 when the file gives none. */
        public final int eagerTop1;

        Entry(String file, String className, int eagerTop1) {
            this.file = file;
            this.className = className;
            this.eagerTop1 = eagerTop1;
        }
    }

    private EvalLabels() {}

    /** @throws IllegalArgumentException naming the line that is wrong */
    public static List<Entry> parse(String text) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<List<String>> records = records(text);
        if (records.isEmpty() || !records.get(0).equals(HEADER)) {
            throw new IllegalArgumentException(FILE_NAME + " must start with the header file,class,eager_top1, got "
                    + (records.isEmpty() ? "an empty file" : String.join(",", records.get(0))));
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 1; i < records.size(); i++) {
            List<String> r = records.get(i);
            if (r.size() == 1 && r.get(0).isEmpty()) {
                continue;  // a blank line
            }
            if (r.size() != 3 || r.get(0).isEmpty() || r.get(1).isEmpty()) {
                throw new IllegalArgumentException(FILE_NAME + " record " + (i + 1) + ": need file,class,eager_top1,"
                        + " got " + r);
            }
            int eager = -1;
            if (!r.get(2).isEmpty()) {
                try {
                    eager = Integer.parseInt(r.get(2).trim());
                } catch (NumberFormatException e) {
                    eager = -2;
                }
                if (eager < 0) {
                    throw new IllegalArgumentException(FILE_NAME + " record " + (i + 1)
                            + ": eager_top1 must be a class index or empty, got '" + r.get(2) + "'");
                }
            }
            out.add(new Entry(r.get(0), r.get(1), eager));
        }
        return Collections.unmodifiableList(out);
    }

    /** RFC 4180 records: fields split on commas, double-quoted fields may hold commas, quotes ("") and newlines. */
    static List<List<String>> records(String text) {
        List<List<String>> out = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        int i = 0;
        while (i < text.length()) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    field.append(ch);
                }
            } else if (ch == '"' && field.length() == 0) {
                quoted = true;
            } else if (ch == ',') {
                record.add(field.toString());
                field.setLength(0);
            } else if (ch == '\n' || ch == '\r') {
                if (ch == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                record.add(field.toString());
                field.setLength(0);
                out.add(record);
                record = new ArrayList<>();
            } else {
                field.append(ch);
            }
            i++;
        }
        if (quoted) {
            throw new IllegalArgumentException(FILE_NAME + ": a quoted field is not closed");
        }
        if (field.length() > 0 || !record.isEmpty()) {
            record.add(field.toString());
            out.add(record);
        }
        return out;
    }
}
