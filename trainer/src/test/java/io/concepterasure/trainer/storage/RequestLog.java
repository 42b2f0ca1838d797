package io.concepterasure.trainer.storage;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadResponse;

/** Records each S3 operation the SDK completed, with its HTTP status: "UploadPart 200". */
final class RequestLog implements ExecutionInterceptor {
  final List<String> operations = new CopyOnWriteArrayList<>();
  final List<String> uploadIds = new CopyOnWriteArrayList<>();

  @Override
  public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
    operations.add(
        attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME)
            + " "
            + context.httpResponse().statusCode());
  }

  @Override
  public void afterUnmarshalling(
      Context.AfterUnmarshalling context, ExecutionAttributes attributes) {
    if (context.response() instanceof CreateMultipartUploadResponse created) {
      uploadIds.add(created.uploadId());
    }
  }

  long count(String operation) {
    return operations.stream().filter(o -> o.equals(operation)).count();
  }
}
