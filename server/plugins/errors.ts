// One error handler: the status comes from the error; bodies are {statusCode, code, error, message, details}.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { AppError, errors, type FieldProblem } from '../errors.ts'

export default fp(async function errorHandler(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    let appErr: AppError
    if (err instanceof AppError) {
      appErr = err
    } else if ((err as FastifyError).validation) {
      const details: FieldProblem[] = (err as FastifyError).validation!.map((v) => {
        const params = v.params as Record<string, string>
        const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.')
        const field = [path, params.missingProperty ?? params.additionalProperty].filter(Boolean).join('.') || (err as FastifyError).validationContext || 'body'
        if (v.keyword === 'format' && params.format === 'date') return { field, message: `${field} 应为有效日期（YYYY-MM-DD，1900–2999 年）` }
        return { field, message: `${field}: ${v.message}` }
      })
      appErr = new AppError('VALIDATION', `请求数据不符合要求：${details.map((d) => d.message).join('；')}`, details)
    } else if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      appErr = new AppError('BODY_TOO_LARGE')
    } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      const status = (err as FastifyError).statusCode!
      const code = status === 404 ? 'NOT_FOUND' : status === 401 ? 'UNAUTHENTICATED' : status === 413 ? 'BODY_TOO_LARGE' : 'VALIDATION'
      appErr = new AppError(code, `${errors[code].message}：${err.message}`)
    } else {
      req.log.error({ err }, 'unhandled error')
      appErr = new AppError('INTERNAL')
    }
    if (appErr.code === 'BUSY') req.log.warn({ err: appErr, retryAfter: appErr.retryAfter }, appErr.message)
    else if (appErr.statusCode >= 500) req.log.error({ err: appErr, cause: appErr.cause }, appErr.message)
    if (appErr.retryAfter !== undefined) reply.header('retry-after', String(appErr.retryAfter))
    reply.status(appErr.statusCode).send({
      statusCode: appErr.statusCode,
      code: appErr.code,
      error: appErr.code,
      message: appErr.message,
      ...(appErr.details ? { details: appErr.details } : {}),
    })
  })
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'NOT_FOUND', message: `没有这个接口：${req.method} ${req.url}` })
  })
})
