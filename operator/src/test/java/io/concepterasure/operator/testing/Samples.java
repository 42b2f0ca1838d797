package io.concepterasure.operator.testing;

import io.concepterasure.api.v1alpha1.Concept;
import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.api.v1alpha1.ConceptErasureSpec;
import io.concepterasure.api.v1alpha1.ModelSource;
import io.concepterasure.api.v1alpha1.OutputTarget;
import io.concepterasure.api.v1alpha1.SecretReference;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;

/** Small valid resources for tests. */
public final class Samples {
  private Samples() {}

  public static ConceptErasure nudity(String namespace, String name) {
    ConceptErasure erasure = new ConceptErasure();
    erasure.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    ConceptErasureSpec spec = new ConceptErasureSpec();
    ModelSource model = new ModelSource();
    model.setUri("s3://models/stable-diffusion-v1-4");
    SecretReference creds = new SecretReference();
    creds.setName("s3-credentials");
    model.setCredentialsSecretRef(creds);
    spec.setModel(model);
    Concept concept = new Concept();
    concept.setErase("nudity");
    spec.setConcepts(List.of(concept));
    OutputTarget output = new OutputTarget();
    output.setUri("s3://erased-models/" + name);
    output.setCredentialsSecretRef(creds);
    spec.setOutput(output);
    erasure.setSpec(spec);
    return erasure;
  }
}
