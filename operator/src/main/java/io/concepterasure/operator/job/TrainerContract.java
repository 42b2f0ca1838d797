package io.concepterasure.operator.job;

import io.concepterasure.api.v1alpha1.ConceptErasureSpec;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * What the operator and the trainer image agree on (docs/architecture.md, "The trainer contract"):
 * where the request and credentials are, which environment variables are set, what exit codes mean.
 */
public final class TrainerContract {
  public static final String REQUEST_DIR = "/etc/concepterasure";
  public static final String REQUEST_KEY = "request.yaml";
  public static final String SCRATCH_DIR = "/scratch";
  public static final String CREDENTIALS_DIR = "/var/run/secrets/concepterasure";
  public static final String MODEL_CREDENTIALS_DIR = CREDENTIALS_DIR + "/model";
  public static final String OUTPUT_CREDENTIALS_DIR = CREDENTIALS_DIR + "/output";

  /** pvc://claim/path is mounted at PVC_ROOT/claim, so the trainer reads PVC_ROOT/claim/path. */
  public static final String PVC_ROOT = "/mnt/pvc";

  public static final String TERMINATION_MESSAGE_PATH = "/dev/termination-log";

  public static final String ENV_RESOURCE_NAME = "CE_RESOURCE_NAME";
  public static final String ENV_RESOURCE_NAMESPACE = "CE_RESOURCE_NAMESPACE";
  public static final String ENV_REQUEST_FILE = "CE_REQUEST_FILE";
  public static final String ENV_SCRATCH_DIR = "CE_SCRATCH_DIR";
  public static final String ENV_MODEL_CREDENTIALS_DIR = "CE_MODEL_CREDENTIALS_DIR";
  public static final String ENV_OUTPUT_CREDENTIALS_DIR = "CE_OUTPUT_CREDENTIALS_DIR";
  public static final String ENV_PVC_ROOT = "CE_PVC_ROOT";

  /** The scratch volume's size limit in bytes: the trainer checks a model fits before download. */
  public static final String ENV_SCRATCH_SIZE_BYTES = "CE_SCRATCH_SIZE_BYTES";

  /**
   * DJL extracts libtorch and the tokenizers library here: it must be writable (the root FS is
   * not).
   */
  public static final String ENV_DJL_CACHE_DIR = "DJL_CACHE_DIR";

  /**
   * The GPUs the Job requested (set only when resources.gpus > 0): the trainer then fails with exit
   * 2 and a one-line reason when it sees no GPU (the CPU image, or no driver), instead of training
   * on the CPU.
   */
  public static final String ENV_GPUS = "CE_GPUS";

  public static final int EXIT_SUCCESS = 0;

  /**
   * The request cannot succeed however often it is retried: the Job fails at once
   * (podFailurePolicy).
   */
  public static final int EXIT_INVALID_INPUT = 2;

  /** A transient failure (storage, network): retried up to spec.backoffLimit. */
  public static final int EXIT_TRANSIENT = 3;

  /** 128 + SIGKILL, what the kernel's OOM killer leaves. */
  public static final int EXIT_OOM_KILLED = 137;

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private TrainerContract() {}

  /**
   * The request file: the resource's spec as YAML with the same field names, less suspend (a
   * request that was suspended and resumed is the same request).
   */
  public static String requestYaml(ConceptErasureSpec spec) {
    ConceptErasureSpec request = SERIALIZATION.clone(spec);
    request.setSuspend(null);
    return SERIALIZATION.asYaml(request);
  }
}
