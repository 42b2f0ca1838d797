package io.concepterasure.operator.validation;

import io.concepterasure.api.v1alpha1.Concept;
import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureSpec;
import io.concepterasure.api.v1alpha1.EvaluationSpec;
import io.concepterasure.api.v1alpha1.TrainingResources;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the CRD schema cannot express. Pure; the reconciler turns a non-empty answer into phase
 * Failed, reason InvalidSpec, a Warning event and no Job.
 */
public final class ConceptErasureValidator {
  // A Kubernetes qualified name with a DNS prefix, as extended resources are named.
  private static final Pattern EXTENDED_RESOURCE =
      Pattern.compile("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$");
  // docker reference grammar, simplified: [host[:port]/]path[:tag][@digest], no spaces, no
  // uppercase path.
  private static final Pattern IMAGE =
      Pattern.compile(
          "^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._/-][a-z0-9]+)*(:[\\w][\\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$");

  private ConceptErasureValidator() {}

  /** Every problem found, each naming the field; empty when the resource is valid. */
  public static List<String> validate(ConceptErasure erasure) {
    List<String> problems = new ArrayList<>();
    ConceptErasureSpec spec = erasure.getSpec();
    if (spec == null) {
      problems.add("spec is missing");
      return problems;
    }
    Set<String> seen = new HashSet<>();
    for (Concept concept : Optional.ofNullable(spec.getConcepts()).orElse(List.of())) {
      if (concept.getErase() != null
          && !seen.add(concept.getErase().trim().toLowerCase(Locale.ROOT))) {
        problems.add("spec.concepts: \"" + concept.getErase() + "\" is listed twice");
      }
    }
    if (spec.getModel() != null
        && spec.getOutput() != null
        && normalise(spec.getModel().getUri()).equals(normalise(spec.getOutput().getUri()))) {
      problems.add(
          "spec.output.uri must differ from spec.model.uri: the original model is never overwritten");
    }
    EvaluationSpec evaluation = spec.getEvaluation();
    if (evaluation != null
        && evaluation.getSeeds() != null
        && !evaluation.getSeeds().isEmpty()
        && evaluation.getDetector() == null // a detector brings its own default prompts
        && (evaluation.getPrompts() == null || evaluation.getPrompts().isEmpty())) {
      problems.add("spec.evaluation.seeds are given without spec.evaluation.prompts to render");
    }
    TrainingResources resources = spec.getResources();
    if (resources != null) {
      positive("spec.resources.cpu", resources.getCpu(), problems);
      positive("spec.resources.memory", resources.getMemory(), problems);
      positive("spec.resources.scratch", resources.getScratch(), problems);
      if (resources.getGpuResourceName() != null
          && !EXTENDED_RESOURCE.matcher(resources.getGpuResourceName()).matches()) {
        problems.add(
            "spec.resources.gpuResourceName \""
                + resources.getGpuResourceName()
                + "\" is not an extended resource name such as nvidia.com/gpu");
      }
    }
    if (spec.getImage() != null && !IMAGE.matcher(spec.getImage()).matches()) {
      problems.add("spec.image \"" + spec.getImage() + "\" is not a valid image reference");
    }
    return problems;
  }

  private static void positive(String field, Quantity quantity, List<String> problems) {
    if (quantity == null) {
      return;
    }
    try {
      if (quantity.getNumericalAmount().compareTo(BigDecimal.ZERO) <= 0) {
        problems.add(field + " must be greater than zero, got " + quantity);
      }
    } catch (IllegalArgumentException | ArithmeticException e) {
      problems.add(
          field + " \"" + quantity + "\" is not a Kubernetes quantity (e.g. 4, 500m, 32Gi)");
    }
  }

  private static String normalise(String uri) {
    if (uri == null) {
      return "";
    }
    String u = uri.trim();
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    return u;
  }
}
