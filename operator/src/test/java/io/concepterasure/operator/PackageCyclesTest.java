package io.concepterasure.operator;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

/**
 * No two packages of the operator depend on each other, directly or through others: each package
 * can be read (and moved) after the ones it uses. A new cycle fails here with the classes that make
 * it.
 */
class PackageCyclesTest {
  private static final String ROOT = "io.concepterasure.operator";

  /** One slice per package, the root package included (a "(**)" pattern would leave it out). */
  private static final SliceAssignment BY_PACKAGE =
      new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
          String name = javaClass.getPackageName();
          return name.equals(ROOT) || name.startsWith(ROOT + ".")
              ? SliceIdentifier.of(name)
              : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
          return "packages of " + ROOT;
        }
      };

  @Test
  void packagesAreFreeOfCycles() {
    JavaClasses classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(ROOT);
    slices().assignedFrom(BY_PACKAGE).should().beFreeOfCycles().check(classes);
  }
}
