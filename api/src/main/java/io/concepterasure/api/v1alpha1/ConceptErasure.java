package io.concepterasure.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A request to erase one or more concepts from a Stable Diffusion model. The operator turns it into
 * a GPU training Job; the status says what is happening and, at the end, where the erased model is.
 */
@Group(ConceptErasure.GROUP)
@Version(ConceptErasure.VERSION)
@Kind(ConceptErasure.KIND)
@Plural("concepterasures")
@Singular("concepterasure")
@ShortNames("cerase")
// The Job, its pods (label job-name) and the other owned objects derive their names from this one.
@ValidationRule(
    value = "size(self.metadata.name) <= " + ConceptErasure.MAX_NAME_LENGTH,
    message =
        "metadata.name must be at most "
            + ConceptErasure.MAX_NAME_LENGTH
            + " characters: the training Job and its pods are named after it")
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Progress",
    jsonPath = ".status.progress.percent",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ConceptErasure extends CustomResource<ConceptErasureSpec, ConceptErasureStatus>
    implements Namespaced {
  public static final String GROUP = "concepterasure.io";
  public static final String VERSION = "v1alpha1";
  public static final String KIND = "ConceptErasure";
  public static final int MAX_NAME_LENGTH = 52;

  @Override
  @JsonPropertyDescription(
      "What to erase from which model, how, and where the erased model goes. "
          + "Immutable once created except suspend: create a new resource to ask for something else.")
  public ConceptErasureSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "What is happening with the erasure and, at the end, where the erased model is. "
          + "Written by the operator; progress by the trainer.")
  public ConceptErasureStatus getStatus() {
    return super.getStatus();
  }
}
