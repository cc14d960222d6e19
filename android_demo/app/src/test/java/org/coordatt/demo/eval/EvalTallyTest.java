package org.coordatt.demo.eval;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.coordatt.demo.artifact.Labels;
import org.junit.Test;

/** eval_labels.csv parsing and top-1/top-5/agreement arithmetic, counted by hand. */
public class EvalTallyTest {

    static final List<String> NAMES = Arrays.asList("cat", "dog", "tench, Tinca tinca", "crane", "crane", "ant", "bee");

    @Test
    public void countsTopOneTopFiveAgreementAndSkips() {
        List<EvalLabels.Entry> entries = EvalLabels.parse(
                "file,class,eager_top1\r\na.jpg,cat,0\nb.jpg,dog,0\n\"c,1.jpg\",\"tench, Tinca tinca\",\n"
                + "d.jpg,zebra,1\ne.jpg,crane,4\n");
        assertEquals(5, entries.size());
        assertEquals("c,1.jpg", entries.get(2).file);
        assertEquals(-1, entries.get(2).eagerTop1);
        EvalTally t = new EvalTally(Labels.of(NAMES));
        t.add("cat", 0, new float[] {9, 1, 0, 0, 0, 0, 0});       // top-1, agrees
        t.add("dog", 0, new float[] {9, 1, 0, 0, 0, 0, 0});       // top-5 only, agrees with eager 0
        t.add("tench, Tinca tinca", -1, new float[] {0, 0, 0, 1, 2, 3, 4});  // sixth: neither
        t.add("zebra", 1, new float[7]);                          // unknown class: skipped
        t.add("crane", 4, new float[] {0, 0, 0, 5, 0, 0, 0});     // the other "crane": top-1; eager 4 disagrees
        t.skip();                                                 // an undecodable image
        Map<String, Object> row = t.toRow();
        assertEquals(2 / 4.0, (Double) row.get("top1"), 1e-12);
        assertEquals(3 / 4.0, (Double) row.get("top5"), 1e-12);
        assertEquals(2 / 3.0, (Double) row.get("top1_agreement"), 1e-12);
        assertEquals(4, row.get("eval_images"));
        assertEquals(2, row.get("eval_skipped"));
    }

    @Test
    public void noImagesGiveNulls() {
        Map<String, Object> row = new EvalTally(Labels.of(NAMES)).toRow();
        assertNull(row.get("top1"));
        assertNull(row.get("top1_agreement"));
        assertEquals(0, row.get("eval_images"));
    }

    @Test
    public void badFilesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> EvalLabels.parse("file,label\na,b\n"));
        assertThrows(IllegalArgumentException.class, () -> EvalLabels.parse("file,class,eager_top1\na,b,x\n"));
        assertThrows(IllegalArgumentException.class, () -> EvalLabels.parse("file,class,eager_top1\n\"a,b,1\n"));
    }
}
