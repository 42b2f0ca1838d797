package io.concepterasure.operator.dependent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.concepterasure.api.v1alpha1.ConceptErasure;
import io.concepterasure.operator.job.TrainingJobFactory;
import io.concepterasure.operator.testing.Samples;
import io.concepterasure.operator.testing.TestSettings;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import org.junit.jupiter.api.Test;

/** The operator's workload identity settings reach the trainer's ServiceAccount and pod. */
class WorkloadIdentityTest {
  private static final String IRSA =
      "eks.amazonaws.com/role-arn=arn:aws:iam::111122223333:role/erasure";

  private static ServiceAccount account(TestSettings settings) {
    TrainerServiceAccountDependentResource dependent = new TrainerServiceAccountDependentResource();
    dependent.setSettings(settings);
    ConceptErasure erasure = Samples.nudity("ml", "nudity");
    erasure.getMetadata().setUid("0b7d3f1e-0000-0000-0000-000000000002");
    return dependent.desired(erasure, null);
  }

  @Test
  void annotationsFromTheOperatorsConfigurationOnTheTrainerServiceAccount() {
    ServiceAccount plain = account(TestSettings.defaults());
    assertThat(plain.getMetadata().getAnnotations()).isNullOrEmpty();

    ServiceAccount annotated =
        account(
            TestSettings.defaults()
                .withWorkloadIdentity(
                    IRSA + ", iam.gke.io/gcp-service-account=erasure@proj.iam.gserviceaccount.com",
                    null));
    assertThat(annotated.getMetadata().getAnnotations())
        .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::111122223333:role/erasure")
        .containsEntry("iam.gke.io/gcp-service-account", "erasure@proj.iam.gserviceaccount.com")
        .hasSize(2);
    assertThat(annotated.getMetadata().getName()).isEqualTo("nudity-trainer");
  }

  @Test
  void podLabelsForAzureUnderTheOperatorsOwn() {
    ConceptErasure erasure = Samples.nudity("ml", "nudity");
    erasure.getMetadata().setUid("0b7d3f1e-0000-0000-0000-000000000003");
    TestSettings settings =
        TestSettings.defaults()
            .withWorkloadIdentity(
                "azure.workload.identity/client-id=00000000-0000-0000-0000-000000000001",
                "azure.workload.identity/use=true,app.kubernetes.io/managed-by=someone-else");
    var labels =
        new TrainingJobFactory(settings)
            .build(erasure)
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels();
    assertThat(labels)
        .containsEntry("azure.workload.identity/use", "true")
        // The operator's labels select its pods: configuration cannot change them.
        .containsEntry("app.kubernetes.io/managed-by", "concept-erasure-operator");
  }

  @Test
  void aMalformedSettingIsRefusedNamingIt() {
    assertThatThrownBy(
            () -> account(TestSettings.defaults().withWorkloadIdentity("no-equals", null)))
        .hasMessage(
            "concepterasure.trainer-service-account-annotations: 'no-equals' is not key=value");
  }
}
