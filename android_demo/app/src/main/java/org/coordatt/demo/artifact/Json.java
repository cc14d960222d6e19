package org.coordatt.demo.artifact;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.ToNumberPolicy;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;

/**
 * JSON through Gson (com.google.code.gson, the library ExecuTorch's Android benchmark app uses):
 * plain values in, plain values out. Objects read as {@code Map<String, Object>} (insertion
 * order kept), arrays as {@code List<Object>}, numbers as {@code Double}, so callers check types
 * the way the sidecar reader does.
 */
public final class Json {

    // serializeNulls: results rows keep every documented field, null or not.
    // disableHtmlEscaping: class names such as "<unk>" stay readable in the file.
    private static final Gson GSON = new GsonBuilder()
            .serializeNulls()
            .disableHtmlEscaping()
            .setObjectToNumberStrategy(ToNumberPolicy.DOUBLE)
            .create();
    private static final TypeAdapter<Object> VALUES = GSON.getAdapter(Object.class);

    private Json() {}

    /**
     * Parses one JSON document strictly (RFC 8259: no comments, no single quotes, nothing after
     * the value).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Object parse(String text) {
        try (JsonReader reader = new JsonReader(new StringReader(text))) {
            reader.setLenient(false);
            Object value = VALUES.read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException("invalid JSON: text after the value at " + reader.getPath());
            }
            return value;
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Compact JSON of maps, lists, arrays, strings, numbers, booleans and null.
     *
     * @throws IllegalArgumentException for NaN or infinite numbers, which JSON cannot hold
     */
    public static String write(Object value) {
        return GSON.toJson(value);
    }
}
