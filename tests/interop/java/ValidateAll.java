// Runs PixelMed's DicomInstanceValidator on every file named that is not SR or KOS, and DicomSRValidator
// (which checks the SR and KOS IODs and templates; the instance validator does not know them) on the others,
// in one JVM (a JVM per file takes 10 s or more here). Used by tests/interop/test_pixelmed.py.
//   java -cp /usr/share/java/pixelmed.jar ValidateAll.java FILE...
// Output: for each file "=== instance FILE" then DicomInstanceValidator's report, or for SR
// "=== sr FILE" then DicomSRValidator's report; "=== exception ..." if a validator throws.
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.validate.DicomInstanceValidator;
import com.pixelmed.validate.DicomSRValidator;

public class ValidateAll {
    public static void main(String[] args) throws Exception {
        DicomInstanceValidator instanceValidator = new DicomInstanceValidator();
        DicomSRValidator srValidator = new DicomSRValidator();
        for (String file : args) {
            AttributeList list = new AttributeList();
            list.read(file);
            String modality = list.get(TagFromName.Modality) == null ? "" : list.get(TagFromName.Modality).getSingleStringValueOrEmptyString();
            if (!modality.equals("SR") && !modality.equals("KO")) {
                System.out.println("=== instance " + file);
                try {
                    System.out.println(instanceValidator.validate(list));
                } catch (Exception e) {
                    System.out.println("=== exception " + e);
                }
            } else {
                System.out.println("=== sr " + file);
                try {
                    System.out.println(srValidator.validate(list));
                } catch (Exception e) {
                    System.out.println("=== exception " + e);
                }
            }
        }
        System.out.flush();
    }
}
